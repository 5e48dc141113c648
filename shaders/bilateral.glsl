#version 330 core
// One pass of the orientation-aligned bilateral filter on Lab (Kyprianidis & Döllner 2008;
// Kang, Lee & Chui 2009): a 1-D bilateral taken across the local edge (AXIS 0) or along it
// (AXIS 1, along the tangent of the smoothed structure tensor), with TAPS bilinear taps each
// side (both #defines), so nothing follows the pixel grid. Each tap stands for two taps of the
// spatial Gaussian, read between them (``pairs``: sampling.paired_taps). Pixels whose focus
// lies outside ``focus_range`` are copied unchanged (merge does not use them).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"
#include "lib/sampling.glsl"

uniform sampler2D source;      // packed (L, a, b, focus), possibly at reduced resolution
uniform sampler2D flow;        // orientation (orient.glsl), any resolution
uniform vec2 pairs[TAPS];      // (offset in source texels, log of its spatial weight)
uniform float range_sigma;     // Lab distance at which a neighbour's weight falls to 0.61
uniform vec2 focus_range;      // focus interval [low, high] that is filtered
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 centre = texelFetch(source, p, 0);
    if (centre.a < focus_range.x || centre.a > focus_range.y) {
        result = centre;
        return;
    }
    vec2 along = orientation(flow, vec2(p), vec2(textureSize(source, 0))).xy;
#if AXIS == 0
    vec2 step_dir = vec2(along.y, -along.x);
#else
    vec2 step_dir = along;
#endif
    float range = -0.5 / (range_sigma * range_sigma);
    vec3 colour = unpack_lab(centre.rgb);
    vec3 total = colour;
    float weights = 1.0;
    for (int i = 0; i < TAPS; i++) {
        for (int side = -1; side <= 1; side += 2) {
            vec2 at = vec2(p) + float(side) * pairs[i].x * step_dir;
            vec3 tap = unpack_lab(bilinear(source, at).rgb);
            vec3 d = tap - colour;
            float w = exp(pairs[i].y + dot(d, d) * range);
            total += w * tap;
            weights += w;
        }
    }
    result = vec4(pack_lab(total / weights), centre.a);
}
#endif
