#version 330 core
// The smoothed structure tensor, reduced to what the later passes read, 8-bit: the edge
// tangent (its minor eigenvector, packed to [0, 1]), the anisotropy and the toon steepness
// (lightness gradient / toon_gradient, clamped to 1).
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/sampling.glsl"

uniform sampler2D source;      // smoothed structure tensor (E, F, G, 1) of L / 100 per px
uniform float toon_gradient;   // lightness gradient (L units / px) of full steepness
out vec4 result;

void main() {
    vec3 tensor = texelFetch(source, ivec2(gl_FragCoord.xy), 0).rgb;
    vec2 across = gradient_direction(tensor);
    across *= across.x < 0.0 ? -1.0 : 1.0;  // one sign for t and -t: stable across backends
    float gradient = 12.5 * sqrt(tensor.x + tensor.z);  // Sobel gain 8, L / 100
    result = vec4(vec2(-across.y, across.x) * 0.5 + 0.5, anisotropy(tensor),
                  clamp(gradient / toon_gradient, 0.0, 1.0));
}
#endif
