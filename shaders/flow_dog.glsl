#version 330 core
// Pass 3c: the two Gaussian blurs (sigma, 1.6 sigma) of a difference of Gaussians, taken
// along the gradient direction of the smoothed structure tensor (across edges only).
// Output (blur1, blur2, tangent x, tangent y).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/sample.glsl"

uniform sampler2D source;  // (L, ...)
uniform sampler2D flow;    // smoothed structure tensor (E, F, G, 1)
uniform int taps;
uniform vec2 kernel[41];   // normalised weights of both blurs at offsets 0..taps (taps <= 40)
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec2 across = gradient_direction(texelFetch(flow, p, 0).rgb);
    vec2 total = vec2(0.0);
    for (int i = -taps; i <= taps; i++) {
        total += kernel[abs(i)] * bilinear(source, vec2(p) + float(i) * across).r;
    }
    result = vec4(total, -across.y, across.x);
}
#endif
