#version 330 core
// Flow-based DoG, step 1 (Kang, Lee & Chui 2007): the difference of two Gaussian blurs
// (sigma, 1.6 sigma) of the lightness taken across the edge, as XDoG's input:
// (blur1 - tau blur2) / 100 - epsilon (one channel). Where no line can show (line opacity 0
// at this focus, or edge anisotropy under half of line_coherence) it is 1 exactly, which
// flow_lines copies.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/sampling.glsl"

uniform sampler2D source;  // packed (L / 100, a, b, focus)
uniform sampler2D flow;    // orientation (orient.glsl), any resolution
uniform vec2 kernel[TAPS + 1];  // weights of both blurs at offsets 0..TAPS (a #define)
uniform vec2 opacity;      // line opacity where focus = 0 and where focus = 1
uniform float edge_tau;    // weight of the wide blur
uniform float edge_threshold;  // epsilon, lightness / 100
uniform float line_coherence;  // anisotropy under half of which no line is drawn
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 centre = texelFetch(source, p, 0);
    vec4 local = orientation(flow, vec2(p), vec2(textureSize(source, 0)));
    if (mix(opacity.x, opacity.y, centre.a) <= 0.0 || local.z <= 0.5 * line_coherence) {
        result = vec4(1.0, 0.0, 0.0, 1.0);
        return;
    }
    vec2 across = vec2(local.y, -local.x);
    vec2 total = kernel[0] * centre.r;
    for (int i = 1; i <= TAPS; i++) {
        total += kernel[i] * (bilinear(source, vec2(p) + float(i) * across).r
                              + bilinear(source, vec2(p) - float(i) * across).r);
    }
    result = vec4(total.x - edge_tau * total.y - edge_threshold, 0.0, 0.0, 1.0);
}
#endif
