# GridSample, RoiAlign, NonMaxSuppression (ops/core/vision.c): the official folders.
file(GLOB CONF_VISION LIST_DIRECTORIES true "${ONNX_NODE}/test_gridsample*" "${ONNX_NODE}/test_roialign*"
  "${ONNX_NODE}/test_nonmaxsuppression_*")
add_test(NAME conformance_vision COMMAND onnorm test ${CONF_VISION})
# F.grid_sample exports from PyTorch (testdata/gen_resize_torch.py), grids
# reaching beyond [-1, 1], against PyTorch's own outputs.
file(GLOB CONF_GS_TORCH LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/testdata/gridsample_torch/*")
add_test(NAME conformance_gridsample_torch COMMAND onnorm test ${CONF_GS_TORCH} --rtol 1e-4 --atol 1e-5)
