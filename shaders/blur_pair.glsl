#version 330 core
// Pass 3 (horizontal, then vertical with paired = true): one axis of two Gaussian blurs of
// lightness, sigma and sigma * ratio, the two halves of a difference of Gaussians.
// Output (blur sigma, blur sigma * ratio, 0, 1).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER

uniform sampler2D source;  // paired: (blur1, blur2, ...) else (L, ...)
uniform ivec2 direction;
uniform int taps;
uniform vec2 kernel[41];   // normalised weights of both blurs at offsets 0..taps (taps <= 40)
uniform bool paired;
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(source, 0) - 1;
    vec2 total = vec2(0.0);
    for (int i = -taps; i <= taps; i++) {
        vec4 texel = texelFetch(source, clamp(p + i * direction, ivec2(0), last), 0);
        total += kernel[abs(i)] * (paired ? texel.rg : texel.rr);
    }
    result = vec4(total, 0.0, 1.0);
}
#endif
