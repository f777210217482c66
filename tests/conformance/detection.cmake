# Detection models exported from torchvision (SSDlite and Faster R-CNN, small): onnorm's
# boxes, scores and labels against PyTorch's (tests/test_detection_models.sh).
add_test(NAME detection_models COMMAND bash ${CMAKE_SOURCE_DIR}/tests/test_detection_models.sh
  $<TARGET_FILE:onnorm> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/detection-models)
set_tests_properties(detection_models PROPERTIES TIMEOUT 900)
