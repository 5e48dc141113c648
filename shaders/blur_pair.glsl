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
uniform float sigma;
uniform float ratio;
uniform bool paired;
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(source, 0) - 1;
    vec2 spatial = -0.5 / vec2(sigma * sigma, sigma * sigma * ratio * ratio);
    vec2 total = vec2(0.0);
    vec2 weights = vec2(0.0);
    for (int i = -taps; i <= taps; i++) {
        vec4 texel = texelFetch(source, clamp(p + i * direction, ivec2(0), last), 0);
        vec2 w = exp(float(i * i) * spatial);
        total += w * (paired ? texel.rg : texel.rr);
        weights += w;
    }
    result = vec4(total / weights, 0.0, 1.0);
}
#endif
