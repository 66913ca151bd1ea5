# Compiles text resources (SQL migrations, the OpenAPI document) into the binary so that a
# deployed factoryops needs no files beside it. Each file is keyed by its path under src/.
function(factoryops_embed_resources out_cpp base_dir)
  set(files ${ARGN})
  add_custom_command(
    OUTPUT "${out_cpp}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DBASE=${base_dir} "-DFILES=${files}"
            -P "${PROJECT_SOURCE_DIR}/cmake/embed_write.cmake"
    DEPENDS ${files} "${PROJECT_SOURCE_DIR}/cmake/embed_write.cmake"
    COMMENT "Embedding resources into ${out_cpp}"
    VERBATIM)
endfunction()
