# Official ONNX node tests of ops/core/select.c (every listed folder passes at default tolerances).
add_test(NAME conformance_select COMMAND onnorm test --strict
  ${ONNX_NODE}/test_nonzero_example
  ${ONNX_NODE}/test_compress_0
  ${ONNX_NODE}/test_compress_1
  ${ONNX_NODE}/test_compress_default_axis
  ${ONNX_NODE}/test_compress_negative_axis
  ${ONNX_NODE}/test_unique_not_sorted_without_axis
  ${ONNX_NODE}/test_unique_sorted_with_axis
  ${ONNX_NODE}/test_unique_sorted_with_axis_3d
  ${ONNX_NODE}/test_unique_sorted_with_negative_axis
  ${ONNX_NODE}/test_unique_sorted_without_axis
)
