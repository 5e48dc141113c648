#version 330 core
// Flow-based DoG, step 2: smooth the DoG along the edge flow (a line integral that follows the
// tangent field in steps of step_length px, both ways, reading the nearest texel), so lines
// come out long and coherent. Texels flow_dog skipped (value 1) are copied. Output
// (smoothed DoG, 0, 0, 1).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/sampling.glsl"

uniform sampler2D source;  // flow_dog's (DoG, ...)
uniform sampler2D flow;    // orientation (orient.glsl), any resolution
uniform float kernel[TAPS + 1];  // weights at steps 0..TAPS each way (a #define)
uniform float step_length;  // px between steps
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float centre = texelFetch(source, p, 0).r;
    if (centre == 1.0) {
        result = vec4(centre, 0.0, 0.0, 1.0);
        return;
    }
    ivec2 last = textureSize(source, 0) - 1;
    vec2 size = vec2(last + 1);
    vec2 tangent = orientation(flow, vec2(p), size).xy;
    float total = kernel[0] * centre;
    for (int side = -1; side <= 1; side += 2) {
        vec2 at = vec2(p);
        vec2 step_dir = float(side) * step_length * tangent;
        for (int i = 1; i <= TAPS; i++) {
            at += step_dir;
            ivec2 q = clamp(ivec2(floor(at + 0.5)), ivec2(0), last);
            total += kernel[i] * texelFetch(source, q, 0).r;
            vec2 next = orientation(flow, at, size).xy;
            step_dir = (dot(next, step_dir) < 0.0 ? -step_length : step_length) * next;
        }
    }
    result = vec4(total, 0.0, 0.0, 1.0);
}
#endif
