#version 330 core
// Last pass: abstracted Lab + flow-smoothed DoG -> sRGB (SRGB8_ALPHA8, encoded on write). Soft, gradient- and
// focus-aware lightness quantisation (Winnemöller et al. 2006) smoothed along the edge flow;
// colour (saturation, background desaturation, fade to paper white); XDoG lines whose opacity
// follows focus and fades where the structure tensor is not coherent (noise, texture);
// optional blend with the previous stylised frame moved along the optical flow, where the
// motion is trusted and slow (a moved frame is slightly misregistered: blended in again and
// again on a moving subject it would blur it; on moving content flicker is hard to see).
// The previous frame is read at the nearest texel. LINES (a #define) 0 leaves the lines out,
// for tiles where none can show; COHERENT (a #define) 0 leaves the blend out (llvmpipe runs
// both sides of a branch on a uniform: the blend's reads cost as much as a third of the pass).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"
#include "lib/sampling.glsl"

uniform sampler2D abstracted;  // packed (L, a, b, focus)
uniform sampler2D edges;       // flow-smoothed DoG (XDoG input)
uniform sampler2D flow;        // orientation (orient.glsl), any resolution
uniform sampler2D previous;    // previous stylised frame, SRGB8 read as linear RGB
uniform sampler2D motion;      // (dx, dy, confidence): where each pixel was in the previous frame
uniform float levels;          // lightness levels, 0 = no quantisation
uniform float toon_sharpness;  // step steepness at strong gradients and focus 1 (a quarter
                               // in flat areas, a quarter again where focus = 0)
uniform float flow_smoothing;  // sigma in px of the smoothing of the steps along the flow,
                               // over FLOW_TAPS = ceil(2 sigma) taps each way (a #define)
uniform float saturation;      // chroma gain everywhere
uniform float desaturate;      // chroma lost where focus = 0
uniform float fade;            // fade to white where focus = 0
uniform float edge_sharpness;  // XDoG phi
uniform float edge_strength;   // line opacity where focus = 1
uniform float background_edges;// line opacity where focus = 0
uniform float line_coherence;  // anisotropy under which lines fade (gone at half of it)
uniform float coherence;       // weight of the moved previous frame, 0 = off
uniform float steady_motion;   // px per frame of motion at which that weight halves
out vec4 result;

// Soft quantisation of L in [0, 100]: tanh steps of steepness ``sharpness`` between the
// plateaus at multiples of 100 / levels.
float quantise(float lightness, float sharpness) {
    float step_size = 100.0 / levels;
    float nearest = (floor(lightness / step_size) + 0.5) * step_size;
    float t = (lightness - nearest) / (0.5 * step_size);
    return nearest + 0.5 * step_size * tanh(sharpness * t) / tanh(sharpness);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 lab_focus = texelFetch(abstracted, p, 0);
    vec3 lab = unpack_lab(lab_focus.rgb);
    float f = lab_focus.a;
    vec2 size = vec2(textureSize(abstracted, 0));
    vec4 local = orientation(flow, vec2(p), size);  // (tangent, anisotropy, steepness)
    if (levels > 0.0) {
        float sharpness = toon_sharpness * mix(0.25, 1.0, local.w) * mix(0.25, 1.0, f);
        lab.x = quantise(lab.x, sharpness);
#if FLOW_TAPS > 0
        if (sharpness > 1.0) {  // softer steps (slope <= 1.31x) leave no stairs to smooth
            float total = lab.x, weights = 1.0;
            for (int i = 1; i <= FLOW_TAPS; i++) {
                float w = exp(-0.5 * float(i * i) / (flow_smoothing * flow_smoothing));
                for (int side = -1; side <= 1; side += 2) {
                    float tap = 100.0 * bilinear(abstracted, vec2(p) + float(side * i) * local.xy).r;
                    total += w * quantise(tap, sharpness);
                    weights += w;
                }
            }
            lab.x = total / weights;
        }
#endif
    }
    lab.yz *= saturation * mix(1.0 - desaturate, 1.0, f);
    lab = mix(lab, vec3(100.0, 0.0, 0.0), fade * (1.0 - f));

#if LINES
    float dog = texelFetch(edges, p, 0).r;
    float line = dog >= 0.0 ? 1.0 : 1.0 + tanh(clamp(edge_sharpness * dog, -10.0, 0.0));
    float opacity = mix(background_edges, edge_strength, f);
    if (line_coherence > 0.0) {
        opacity *= smoothstep(0.5 * line_coherence, line_coherence, local.z);
    }
    vec3 rgb = lab_to_linear(lab) * mix(1.0, line, opacity);  // shading in linear light
#else
    vec3 rgb = lab_to_linear(lab);
#endif
#if COHERENT
    if (coherence > 0.0) {
        vec3 moved = bilinear(motion, rescale(vec2(p), size, vec2(textureSize(motion, 0)))).rgb;
        // nearest texel: a bilinear read blurs, and blended in frame after frame, it adds up
        ivec2 was = clamp(ivec2(floor(vec2(p) + moved.xy + 0.5)), ivec2(0), ivec2(size) - 1);
        vec3 before = texelFetch(previous, was, 0).rgb;
        float steady = 1.0 / (1.0 + dot(moved.xy, moved.xy) / (steady_motion * steady_motion));
        rgb = mix(rgb, before, coherence * clamp(moved.z, 0.0, 1.0) * steady);
    }
#endif
    result = vec4(rgb, 1.0);
}
#endif
