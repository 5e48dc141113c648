#version 330 core
// One axis of a Gaussian blur of all four channels (the structure tensor, x then y).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER

uniform sampler2D source;
uniform ivec2 direction;   // (1, 0) along rows, (0, 1) along columns
uniform float kernel[TAPS + 1];  // normalised weights at offsets 0..TAPS (TAPS: a #define)
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(source, 0) - 1;
    vec4 total = vec4(0.0);
    for (int i = -TAPS; i <= TAPS; i++) {
        total += kernel[abs(i)] * texelFetch(source, clamp(p + i * direction, ivec2(0), last), 0);
    }
    result = total;
}
#endif
