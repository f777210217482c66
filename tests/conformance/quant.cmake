add_test(NAME conformance_quant COMMAND onnorm test --strict
    ${ONNX_NODE}/test_quantizelinear
    ${ONNX_NODE}/test_quantizelinear_axis
    ${ONNX_NODE}/test_dequantizelinear
    ${ONNX_NODE}/test_dequantizelinear_axis
    ${ONNX_NODE}/test_dynamicquantizelinear
    ${ONNX_NODE}/test_dynamicquantizelinear_max_adjusted
    ${ONNX_NODE}/test_dynamicquantizelinear_min_adjusted
    ${ONNX_NODE}/test_matmulinteger
    ${ONNX_NODE}/test_basic_convinteger
    ${ONNX_NODE}/test_convinteger_with_padding
    ${ONNX_NODE}/test_convinteger_without_padding
    ${ONNX_NODE}/test_qlinearmatmul_2D
    ${ONNX_NODE}/test_qlinearmatmul_3D
    ${ONNX_NODE}/test_qlinearconv)
