# If, Loop and Scan (runtime/control.c): the official folders with tensor
# values only.
add_test(NAME conformance_control COMMAND onnorm test --strict
  ${ONNX_NODE}/test_if ${ONNX_NODE}/test_loop11 ${ONNX_NODE}/test_scan_sum
  ${ONNX_NODE}/test_scan9_sum)
