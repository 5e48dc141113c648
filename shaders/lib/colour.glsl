// CIELab, L in [0, 100] -> linear RGB (D65); the formulas of OpenCV's cvtColor for float
// images (the Lab input is made by OpenCV: dofkit.render.pipeline.packed_lab). The sRGB
// transfer curve is left to the texture unit: the result is drawn into SRGB8_ALPHA8 (encoded
// when written).
const vec3 WHITE = vec3(0.950456, 1.0, 1.088754);
const mat3 XYZ_TO_RGB = mat3(3.240479, -0.969256, 0.055648,
                             -1.53715, 1.875991, -0.204043,
                             -0.498535, 0.041556, 1.057311);

vec3 lab_f_inverse(vec3 f) {
    return mix((f - 16.0 / 116.0) / 7.787, f * f * f, greaterThan(f, vec3(0.206893)));
}

vec3 lab_to_linear(vec3 lab) {
    float fy = (lab.x + 16.0) / 116.0;
    vec3 xyz = WHITE * lab_f_inverse(vec3(fy + lab.y / 500.0, fy, fy - lab.z / 200.0));
    return clamp(XYZ_TO_RGB * xyz, 0.0, 1.0);
}

// Lab stored in 8-bit textures as OpenCV's 8-bit Lab does: (L * 255 / 100, a + 128, b + 128)
// / 255, so each channel fills [0, 1].
vec3 pack_lab(vec3 lab) {
    return vec3(lab.x / 100.0, (lab.yz + 128.0) / 255.0);
}

vec3 unpack_lab(vec3 stored) {
    return vec3(stored.x * 100.0, stored.yz * 255.0 - 128.0);
}
