#version 330 core
// Structure tensor of lightness from 3x3 Sobel derivatives: (gx², gx gy, gy², 1), taken on a
// reduced copy of the input, packed lightness (L / 100) scaled by ``unit`` = 1 / (texel size
// in px) so gradients are per full-resolution px. Computed once per image; its blur (smooth)
// steers every later pass.
#if defined VERTEX_SHADER
#include "lib/fullscreen.glsl"
#elif defined FRAGMENT_SHADER

uniform sampler2D source;  // packed (L, a, b, focus)
uniform float unit;        // 1 / texel size in full-resolution px
out vec4 result;

float lightness(ivec2 p) {
    return texelFetch(source, clamp(p, ivec2(0), textureSize(source, 0) - 1), 0).r * unit;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float gx = lightness(p + ivec2(1, -1)) + 2.0 * lightness(p + ivec2(1, 0))
             + lightness(p + ivec2(1, 1)) - lightness(p + ivec2(-1, -1))
             - 2.0 * lightness(p + ivec2(-1, 0)) - lightness(p + ivec2(-1, 1));
    float gy = lightness(p + ivec2(-1, 1)) + 2.0 * lightness(p + ivec2(0, 1))
             + lightness(p + ivec2(1, 1)) - lightness(p + ivec2(-1, -1))
             - 2.0 * lightness(p + ivec2(0, -1)) - lightness(p + ivec2(1, -1));
    result = vec4(gx * gx, gx * gy, gy * gy, 1.0);
}
#endif
