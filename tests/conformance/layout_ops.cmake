add_test(NAME conformance_layout_ops COMMAND onnorm test --strict
  ${ONNX_NODE}/test_depthtospace_crd_mode
  ${ONNX_NODE}/test_depthtospace_crd_mode_example
  ${ONNX_NODE}/test_depthtospace_dcr_mode
  ${ONNX_NODE}/test_depthtospace_example
  ${ONNX_NODE}/test_spacetodepth
  ${ONNX_NODE}/test_spacetodepth_example
  ${ONNX_NODE}/test_reversesequence_batch
  ${ONNX_NODE}/test_reversesequence_time
  ${ONNX_NODE}/test_globalmaxpool
  ${ONNX_NODE}/test_globalmaxpool_precomputed
  ${ONNX_NODE}/test_maxunpool_export_with_output_shape
  ${ONNX_NODE}/test_maxunpool_export_without_output_shape)
