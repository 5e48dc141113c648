#version 330 core
// Pass 3d: smooth the DoG blurs along the edge flow (a line integral that follows the
// tangent field step by step, both ways), so lines come out long and coherent.
// Output (blur1, blur2, 0, 1).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/sample.glsl"

uniform sampler2D source;  // (blur1, blur2, tangent x, tangent y)
uniform int taps;          // steps each way
uniform float kernel[41];  // normalised weights at steps 0..taps (taps <= 40)
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(source, 0) - 1;
    vec4 centre = texelFetch(source, p, 0);
    vec2 total = kernel[0] * centre.rg;
    for (int side = -1; side <= 1; side += 2) {
        vec2 at = vec2(p);
        vec2 step_dir = float(side) * centre.ba;
        for (int i = 1; i <= taps; i++) {
            at += step_dir;
            total += kernel[i] * bilinear(source, at).rg;
            vec2 tangent = texelFetch(source, clamp(ivec2(floor(at + 0.5)), ivec2(0), last), 0).ba;
            step_dir = dot(tangent, step_dir) < 0.0 ? -tangent : tangent;
        }
    }
    result = vec4(total, 0.0, 1.0);
}
#endif
