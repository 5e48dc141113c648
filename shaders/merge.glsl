#version 330 core
// Composite by focus: the background abstracted at reduced resolution (bilinear upsampling)
// where focus = 0, the lightly smoothed full-resolution subject where focus = 1.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"
#include "lib/sampling.glsl"

uniform sampler2D subject;     // packed (L, a, b, focus), full resolution
uniform sampler2D background;  // packed (L, a, b, focus), reduced resolution
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 near = texelFetch(subject, p, 0);
    vec2 at = rescale(vec2(p), vec2(textureSize(subject, 0)), vec2(textureSize(background, 0)));
    vec3 far = unpack_lab(bilinear(background, at).rgb);
    result = vec4(pack_lab(mix(far, unpack_lab(near.rgb), near.a)), near.a);
}
#endif
