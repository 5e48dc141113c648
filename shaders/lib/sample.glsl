// Bilinear sample of a float texture at ``at`` in texel units (texel centres on integers),
// borders clamped: the texture unit's LINEAR filter with CLAMP_TO_EDGE (llvmpipe filters
// float textures in float, matching the CPU reference to float rounding).
vec4 bilinear(sampler2D s, vec2 at) {
    return texture(s, (at + 0.5) / vec2(textureSize(s, 0)));
}

// Unit gradient direction (across edges) of a structure tensor (E, F, G) = (gx², gx gy, gy²):
// its major eigenvector; (1, 0) where the tensor is isotropic.
vec2 gradient_direction(vec3 tensor) {
    float e = tensor.x, f = tensor.y, g = tensor.z;
    float major = 0.5 * (e + g + sqrt((e - g) * (e - g) + 4.0 * f * f));
    vec2 v = e >= g ? vec2(major - g, f) : vec2(f, major - e);
    float size = length(v);
    return size > 1e-3 ? v / size : vec2(1.0, 0.0);
}
