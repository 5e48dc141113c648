#version 330 core
// Pass 2 (iterated over both axes): one axis of a bilateral filter on Lab whose
// spatial sigma follows the focus map: radius_background px where focus = 0, radius_subject
// px where focus = 1. Each pixel reads ceil(2 sigma) texels each side (at most taps); edges
// are clamped (replicated).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER

uniform sampler2D source;      // (L, a, b, focus)
uniform ivec2 direction;       // (1, 0) along rows, (0, 1) along columns
uniform int taps;              // most samples each side of the centre
uniform float radius_background;
uniform float radius_subject;
uniform float range_sigma;     // Lab distance at which a neighbour's weight falls to 0.61
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(source, 0) - 1;
    vec4 centre = texelFetch(source, p, 0);
    float sigma = max(mix(radius_background, radius_subject, centre.a), 1e-3);
    float spatial = -0.5 / (sigma * sigma);
    float range = -0.5 / (range_sigma * range_sigma);
    int reach = min(taps, int(ceil(2.0 * sigma)));
    vec3 total = vec3(0.0);
    float weights = 0.0;
    for (int i = -reach; i <= reach; i++) {
        vec3 sample = texelFetch(source, clamp(p + i * direction, ivec2(0), last), 0).rgb;
        vec3 d = sample - centre.rgb;
        float w = exp(float(i * i) * spatial + dot(d, d) * range);
        total += w * sample;
        weights += w;
    }
    result = vec4(total / weights, centre.a);
}
#endif
