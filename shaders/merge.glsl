#version 330 core
// Composite by focus: the background abstracted at reduced resolution where focus = 0, the
// full-resolution subject where focus = 1. The background is upsampled by joint bilateral
// upsampling (Kopf et al. 2007): its 2x2 nearest texels weighted bilinearly and by their Lab
// distance to the full-resolution pixel, so outlines (round lights) stay where the photo has
// them instead of following the coarse grid.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"
#include "lib/sampling.glsl"

uniform sampler2D subject;     // packed (L, a, b, focus), full resolution
uniform sampler2D background;  // packed (L, a, b, focus), reduced resolution
uniform float range_sigma;     // Lab distance at which a texel's weight falls to 0.61
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 near = texelFetch(subject, p, 0);
    vec3 guide = unpack_lab(near.rgb);
    ivec2 size = textureSize(background, 0);
    vec2 at = clamp(rescale(vec2(p), vec2(textureSize(subject, 0)), vec2(size)),
                    vec2(0.0), vec2(size - 1));
    ivec2 base = ivec2(floor(at));
    vec2 t = at - vec2(base);
    float range = -0.5 / (range_sigma * range_sigma);
    vec3 total = vec3(0.0);
    float weights = 0.0;
    for (int dy = 0; dy <= 1; dy++) {
        for (int dx = 0; dx <= 1; dx++) {
            ivec2 q = min(base + ivec2(dx, dy), size - 1);
            vec3 texel = unpack_lab(texelFetch(background, q, 0).rgb);
            vec3 d = texel - guide;
            // 1e-3: a floor that keeps the bilinear blend where no texel matches the guide
            float w = (dx == 1 ? t.x : 1.0 - t.x) * (dy == 1 ? t.y : 1.0 - t.y)
                      * (exp(dot(d, d) * range) + 1e-3);
            total += w * texel;
            weights += w;
        }
    }
    vec3 far = total / weights;
    result = vec4(pack_lab(mix(far, guide, near.a)), near.a);
}
#endif
