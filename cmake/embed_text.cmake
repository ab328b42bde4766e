# Writes a C++ source defining `const std::string& <FUNCTION>()` that returns
# the text of <INPUT> (embedded as a raw string literal), in <NAMESPACE>.
# Run at configure time; the output is rewritten only when it changes, so an
# untouched input costs no rebuild.
function(cairn_embed_text input output namespace function)
  file(READ ${input} text)
  string(FIND "${text}" ")CAIRN_EMBED\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${input} contains the raw-string delimiter )CAIRN_EMBED\"")
  endif()
  file(RELATIVE_PATH shown ${CMAKE_SOURCE_DIR} ${input})
  file(WRITE ${output}.tmp
    "// Generated from ${shown} by cmake/embed_text.cmake: do not edit.\n"
    "#include <string>\n\nnamespace ${namespace} {\n\n"
    "const std::string& ${function}() {\n"
    "  static const std::string kText = R\"CAIRN_EMBED(${text})CAIRN_EMBED\";\n"
    "  return kText;\n}\n\n}  // namespace ${namespace}\n")
  configure_file(${output}.tmp ${output} COPYONLY)
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
endfunction()
