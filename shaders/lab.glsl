#version 330 core
// First pass: image (SRGB8, read as linear RGB) + focus map (8-bit) -> packed Lab and focus,
// 8-bit (lib/colour.glsl). Later passes carry focus in alpha.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"

uniform sampler2D image;  // linear RGB in [0, 1] (an SRGB8 texture)
uniform sampler2D focus;  // R in [0, 1], 1 = in focus
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    result = vec4(pack_lab(linear_to_lab(texelFetch(image, p, 0).rgb)), texelFetch(focus, p, 0).r);
}
#endif
