// Vertex stage shared by every program: one triangle covering the viewport, made from
// gl_VertexID (draw 3 vertices with an empty vertex array). Fragments address texels with
// ivec2(gl_FragCoord.xy); row 0 of an uploaded array is row 0 of the read-back, no flip.
void main() {
    vec2 corner = vec2(float((gl_VertexID & 1) << 2), float((gl_VertexID & 2) << 1));
    gl_Position = vec4(corner - 1.0, 0.0, 1.0);
}
