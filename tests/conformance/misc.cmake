# Folders no family list covers: Constant (folded at load); training-mode
# Dropout at ratio 0 (the identity).
add_test(NAME conformance_misc COMMAND onnorm test --strict ${ONNX_NODE}/test_constant
  ${ONNX_NODE}/test_training_dropout_zero_ratio ${ONNX_NODE}/test_training_dropout_zero_ratio_mask)
