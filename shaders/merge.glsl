#version 330 core
// Composite by focus: the background abstracted at reduced resolution where focus = 0, the
// full-resolution subject where focus = 1. The background is upsampled by joint bilateral
// upsampling (Kopf et al. 2007): the 3x3 texels around the nearest, weighted by an isotropic
// Gaussian of their distance (sigma upsample_sigma texels; a bilinear tent is square and
// squares round lights) and by their Lab distance to the full-resolution pixel, so outlines
// stay where the photo has them instead of following the coarse grid.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"
#include "lib/sampling.glsl"

uniform sampler2D subject;     // packed (L, a, b, focus), full resolution
uniform sampler2D background;  // packed (L, a, b, focus), reduced resolution
uniform float range_sigma;     // Lab distance at which a texel's weight falls to 0.61
uniform float upsample_sigma;  // texels: spatial sigma of the upsampling weights
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 near = texelFetch(subject, p, 0);
    if (near.a >= 1.0) {  // in full focus: the subject
        result = near;
        return;
    }
    vec3 guide = unpack_lab(near.rgb);
    ivec2 size = textureSize(background, 0);
    vec2 at = clamp(rescale(vec2(p), vec2(textureSize(subject, 0)), vec2(size)),
                    vec2(0.0), vec2(size - 1));
    ivec2 nearest = ivec2(floor(at + 0.5));
    // The isotropic Gaussian weight of the 3x3 texels around the nearest, as the product of
    // its x and y factors.
    vec3 wx, wy;
    for (int i = 0; i < 3; i++) {
        vec2 offset = vec2(nearest + i - 1) - at;
        wx[i] = exp(-0.5 * offset.x * offset.x / (upsample_sigma * upsample_sigma));
        wy[i] = exp(-0.5 * offset.y * offset.y / (upsample_sigma * upsample_sigma));
    }
    float range = -0.5 / (range_sigma * range_sigma);
    vec3 total = vec3(0.0);
    float weights = 0.0;
    for (int dy = 0; dy < 3; dy++) {
        for (int dx = 0; dx < 3; dx++) {
            ivec2 q = clamp(nearest + ivec2(dx - 1, dy - 1), ivec2(0), size - 1);
            vec3 texel = unpack_lab(texelFetch(background, q, 0).rgb);
            vec3 d = texel - guide;
            // 1e-3: a floor that keeps the spatial blend where no texel matches the guide
            float w = wx[dx] * wy[dy] * (exp(dot(d, d) * range) + 1e-3);
            total += w * texel;
            weights += w;
        }
    }
    vec3 far = total / weights;
    result = vec4(pack_lab(mix(far, guide, near.a)), near.a);
}
#endif
