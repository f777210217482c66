# Folders no family list covers: Constant (folded at load).
add_test(NAME conformance_misc COMMAND onnorm test --strict ${ONNX_NODE}/test_constant)
