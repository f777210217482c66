# Expanded (function-body) folders whose ops come from several families: they
# pass once all of them exist (GatherElements, Loop, Ceil, Range, Cos, Round,
# QuantizeLinear, ...).
add_test(NAME conformance_expanded_mixed COMMAND onnorm test
  ${ONNX_NODE}/test_blackmanwindow_expanded
  ${ONNX_NODE}/test_blackmanwindow_symmetric_expanded
  ${ONNX_NODE}/test_dynamicquantizelinear_expanded
  ${ONNX_NODE}/test_dynamicquantizelinear_max_adjusted_expanded
  ${ONNX_NODE}/test_dynamicquantizelinear_min_adjusted_expanded
  ${ONNX_NODE}/test_hammingwindow_expanded
  ${ONNX_NODE}/test_hammingwindow_symmetric_expanded
  ${ONNX_NODE}/test_hannwindow_expanded
  ${ONNX_NODE}/test_hannwindow_symmetric_expanded
  ${ONNX_NODE}/test_nllloss_NC_expanded
  ${ONNX_NODE}/test_nllloss_NCd1_expanded
  ${ONNX_NODE}/test_nllloss_NCd1_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1_mean_weight_negative_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1_weight_expanded
  ${ONNX_NODE}/test_nllloss_NCd1_weight_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_no_weight_reduction_mean_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_reduction_mean_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_reduction_sum_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_with_weight_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_with_weight_reduction_mean_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_with_weight_reduction_sum_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2_with_weight_reduction_sum_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2d3_none_no_weight_negative_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2d3_sum_weight_high_ii_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2d3d4d5_mean_weight_expanded
  ${ONNX_NODE}/test_nllloss_NCd1d2d3d4d5_none_no_weight_expanded
  ${ONNX_NODE}/test_range_float_type_positive_delta_expanded
  ${ONNX_NODE}/test_range_int32_type_negative_delta_expanded
)
