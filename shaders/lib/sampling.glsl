// Shared sampling helpers. Texel coordinates: texel centres on integers.

// Bilinear read of texture ``s`` at ``at`` (texel units), borders clamped: the texture unit's
// LINEAR filter with CLAMP_TO_EDGE.
vec4 bilinear(sampler2D s, vec2 at) {
    return texture(s, (at + 0.5) / vec2(textureSize(s, 0)));
}

// Texel position in a texture of ``size`` texels of the point at ``at`` in a texture of
// ``from`` texels covering the same picture (both with texel centres on integers).
vec2 rescale(vec2 at, vec2 from, vec2 size) {
    return (at + 0.5) * size / from - 0.5;
}

// Unit gradient direction (across edges) of a structure tensor (E, F, G) = (gx², gx gy, gy²):
// its major eigenvector; (1, 0) where the tensor is isotropic.
vec2 gradient_direction(vec3 tensor) {
    float e = tensor.x, f = tensor.y, g = tensor.z;
    float major = 0.5 * (e + g + sqrt((e - g) * (e - g) + 4.0 * f * f));
    vec2 v = e >= g ? vec2(major - g, f) : vec2(f, major - e);
    float size = length(v);
    return size > 1e-6 ? v / size : vec2(1.0, 0.0);
}

// Anisotropy (lambda1 - lambda2) / (lambda1 + lambda2) of a structure tensor, in [0, 1]:
// 1 along a clean edge, near 0 on isotropic texture and noise.
float anisotropy(vec3 tensor) {
    float e = tensor.x, f = tensor.y, g = tensor.z;
    return sqrt((e - g) * (e - g) + 4.0 * f * f) / (e + g + 1e-8);
}

// The orientation texture (orient.glsl) at ``at`` (texel units of a texture of ``from`` texels
// covering the same picture), nearest texel: (unit edge tangent, anisotropy, toon steepness).
// Nearest, not bilinear: tangents t and -t are the same, and blending them would cancel.
vec4 orientation(sampler2D field, vec2 at, vec2 from) {
    ivec2 size = textureSize(field, 0);
    ivec2 q = clamp(ivec2(floor(rescale(at, from, vec2(size)) + 0.5)), ivec2(0), size - 1);
    vec4 stored = texelFetch(field, q, 0);
    return vec4(normalize(stored.xy * 2.0 - 1.0), stored.zw);
}
