#version 330 core
// First pass: sRGB image (8-bit) + focus map (8-bit) -> packed Lab and focus, 8-bit
// (lib/colour.glsl). Later passes carry focus in alpha.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"

uniform sampler2D image;  // RGB in [0, 1]
uniform sampler2D focus;  // R in [0, 1], 1 = in focus
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    result = vec4(pack_lab(rgb_to_lab(texelFetch(image, p, 0).rgb)), texelFetch(focus, p, 0).r);
}
#endif
