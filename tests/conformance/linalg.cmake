add_test(NAME conformance_linalg COMMAND onnorm test --strict
  ${ONNX_NODE}/test_det_2d
  ${ONNX_NODE}/test_det_nd
  ${ONNX_NODE}/test_einsum_batch_diagonal
  ${ONNX_NODE}/test_einsum_batch_matmul
  ${ONNX_NODE}/test_einsum_inner_prod
  ${ONNX_NODE}/test_einsum_sum
  ${ONNX_NODE}/test_einsum_transpose)
