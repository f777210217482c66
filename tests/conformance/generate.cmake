# Official ONNX node tests of ops/core/generate.c (every listed folder passes at default tolerances).
# Not listed: test_range_*_expanded (their function body needs Ceil and Loop, which onnorm lacks).
add_test(NAME conformance_generate COMMAND onnorm test --strict
  ${ONNX_NODE}/test_tril
  ${ONNX_NODE}/test_tril_neg
  ${ONNX_NODE}/test_tril_one_row_neg
  ${ONNX_NODE}/test_tril_out_neg
  ${ONNX_NODE}/test_tril_out_pos
  ${ONNX_NODE}/test_tril_pos
  ${ONNX_NODE}/test_tril_square
  ${ONNX_NODE}/test_tril_square_neg
  ${ONNX_NODE}/test_tril_zero
  ${ONNX_NODE}/test_triu
  ${ONNX_NODE}/test_triu_neg
  ${ONNX_NODE}/test_triu_one_row
  ${ONNX_NODE}/test_triu_out_neg_out
  ${ONNX_NODE}/test_triu_out_pos
  ${ONNX_NODE}/test_triu_pos
  ${ONNX_NODE}/test_triu_square
  ${ONNX_NODE}/test_triu_square_neg
  ${ONNX_NODE}/test_triu_zero
  ${ONNX_NODE}/test_eyelike_populate_off_main_diagonal
  ${ONNX_NODE}/test_eyelike_with_dtype
  ${ONNX_NODE}/test_eyelike_without_dtype
  ${ONNX_NODE}/test_onehot_negative_indices
  ${ONNX_NODE}/test_onehot_with_axis
  ${ONNX_NODE}/test_onehot_with_negative_axis
  ${ONNX_NODE}/test_onehot_without_axis
  ${ONNX_NODE}/test_range_float_type_positive_delta
  ${ONNX_NODE}/test_range_int32_type_negative_delta
)
