add_test(NAME conformance_scatter_gather COMMAND onnorm test --strict
  ${ONNX_NODE}/test_gather_elements_0
  ${ONNX_NODE}/test_gather_elements_1
  ${ONNX_NODE}/test_gather_elements_negative_indices
  ${ONNX_NODE}/test_scatter_elements_with_axis
  ${ONNX_NODE}/test_scatter_elements_with_duplicate_indices
  ${ONNX_NODE}/test_scatter_elements_with_negative_indices
  ${ONNX_NODE}/test_scatter_elements_without_axis
  ${ONNX_NODE}/test_scatter_with_axis
  ${ONNX_NODE}/test_scatter_without_axis
  ${ONNX_NODE}/test_gathernd_example_float32
  ${ONNX_NODE}/test_gathernd_example_int32
  ${ONNX_NODE}/test_gathernd_example_int32_batch_dim1
  ${ONNX_NODE}/test_scatternd
  ${ONNX_NODE}/test_scatternd_add
  ${ONNX_NODE}/test_scatternd_multiply)
