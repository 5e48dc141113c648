#version 330 core
// Pass 4: abstracted Lab + DoG pair -> sRGB. Soft luminance quantisation (toon), colour
// (saturation, background desaturation and fade to paper white), XDoG lines weighted by focus.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"

uniform sampler2D abstracted;  // (L, a, b, focus)
uniform sampler2D edges;       // (blur sigma, blur sigma * ratio) of L
uniform float levels;          // lightness levels, 0 = no quantisation
uniform float toon_sharpness;  // 0.1 soft ramps ... 20 hard steps
uniform float saturation;      // chroma gain everywhere
uniform float desaturate;      // chroma lost where focus = 0
uniform float fade;            // fade to white where focus = 0
uniform float edge_tau;        // DoG: blur1 - tau * blur2
uniform float edge_threshold;  // XDoG epsilon, lightness / 100
uniform float edge_sharpness;  // XDoG phi
uniform float edge_strength;   // line opacity where focus = 1
uniform float background_edges;// line opacity where focus = 0
out vec4 result;

float quantise(float lightness) {
    float step_size = 100.0 / levels;
    float nearest = (floor(lightness / step_size) + 0.5) * step_size;
    float t = (lightness - nearest) / (0.5 * step_size);
    return nearest + 0.5 * step_size * tanh(toon_sharpness * t) / tanh(toon_sharpness);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 lab_focus = texelFetch(abstracted, p, 0);
    vec3 lab = lab_focus.rgb;
    float f = lab_focus.a;
    if (levels > 0.0) {
        lab.x = quantise(lab.x);
    }
    lab.yz *= saturation * mix(1.0 - desaturate, 1.0, f);
    float fading = fade * (1.0 - f);
    lab = mix(lab, vec3(100.0, 0.0, 0.0), fading);

    vec2 pair = texelFetch(edges, p, 0).rg;
    float dog = (pair.x - edge_tau * pair.y) / 100.0 - edge_threshold;
    float line = dog >= 0.0 ? 1.0 : 1.0 + tanh(clamp(edge_sharpness * dog, -10.0, 0.0));
    float opacity = mix(background_edges, edge_strength, f);
    result = vec4(lab_to_rgb(lab) * mix(1.0, line, opacity), 1.0);
}
#endif
