#version 330 core
// Pass 1: sRGB image + focus map -> (L, a, b, focus). Later passes carry focus in alpha.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER
#include "lib/colour.glsl"

uniform sampler2D image;  // RGB in [0, 1]
uniform sampler2D focus;  // R in [0, 1], 1 = in focus
out vec4 result;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float in_focus = clamp(texelFetch(focus, p, 0).r, 0.0, 1.0);
    result = vec4(rgb_to_lab(texelFetch(image, p, 0).rgb), in_focus);
}
#endif
