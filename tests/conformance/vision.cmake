# GridSample, RoiAlign, NonMaxSuppression (ops/core/vision.c): the official folders.
file(GLOB CONF_VISION LIST_DIRECTORIES true "${ONNX_NODE}/test_gridsample*" "${ONNX_NODE}/test_roialign*"
  "${ONNX_NODE}/test_nonmaxsuppression_*")
add_test(NAME conformance_vision COMMAND onnorm test ${CONF_VISION})
