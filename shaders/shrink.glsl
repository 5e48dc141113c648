#version 330 core
// Reduced-resolution copy for the background: each output texel is the mean of the
// SCALE x SCALE block of source texels it covers (blocks past the border are clamped);
// SCALE (1, 2, 4) is a #define.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER

uniform sampler2D source;
out vec4 result;

void main() {
    ivec2 corner = ivec2(gl_FragCoord.xy) * SCALE;
    ivec2 last = textureSize(source, 0) - 1;
    vec4 total = vec4(0.0);
    for (int dy = 0; dy < SCALE; dy++) {
        for (int dx = 0; dx < SCALE; dx++) {
            total += texelFetch(source, min(corner + ivec2(dx, dy), last), 0);
        }
    }
    result = total / float(SCALE * SCALE);
}
#endif
