# Resize, Upsample (ops/core/resize.c): the official folders at default
# tolerances, and F.interpolate exports from PyTorch (testdata/gen_resize_torch.py)
# against PyTorch's own outputs.
file(GLOB CONF_RESIZE LIST_DIRECTORIES true "${ONNX_NODE}/test_resize_*" "${ONNX_NODE}/test_upsample_*")
add_test(NAME conformance_resize COMMAND onnorm test ${CONF_RESIZE})
file(GLOB CONF_RESIZE_TORCH LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/testdata/resize_torch/*")
add_test(NAME conformance_resize_torch COMMAND onnorm test ${CONF_RESIZE_TORCH} --rtol 1e-4 --atol 1e-5)
# Resize-18/19 (antialias, axes, keep_aspect_ratio_policy, half_pixel_symmetric):
# expected values from a NumPy transcription of the ONNX reference
# (testdata/gen_resize_opset18.py), at default tolerances.
file(GLOB CONF_RESIZE18 LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/testdata/resize_opset18/*")
add_test(NAME conformance_resize_opset18 COMMAND onnorm test ${CONF_RESIZE18})
