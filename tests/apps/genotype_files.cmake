# Writes ${WORK}/g.txt or g.json, the bad genotype file a run_cli.cmake case named genotype_* needs.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(reduce [=[reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2]]=])
if(SETUP STREQUAL "genotype_deep")
  string(REPEAT "[" 50000 deep)
  file(WRITE "${WORK}/g.txt" "Genotype(normal=${deep})\n")
elseif(SETUP STREQUAL "genotype_huge_int")
  file(WRITE "${WORK}/g.txt" "Genotype(normal=[('dil_conv_3x3', 99999999999), ('none', 0)], "
                             "normal_concat=[2], ${reduce})\n")
elseif(SETUP STREQUAL "genotype_huge_range")
  file(WRITE "${WORK}/g.txt" "Genotype(normal=[('none', 0), ('none', 1)], "
                             "normal_concat=range(0, 2000000000), ${reduce})\n")
elseif(SETUP STREQUAL "genotype_long_chain")
  set(edges "")
  foreach(node RANGE 1 40)
    string(APPEND edges "('skip_connect', ${node}), ('skip_connect', ${node}), ")
  endforeach()
  file(WRITE "${WORK}/g.txt" "Genotype(normal=[${edges}], normal_concat=[41], ${reduce})\n")
elseif(SETUP STREQUAL "genotype_reduce_concat")
  file(WRITE "${WORK}/g.json" [=[{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1]],
 "normal_concat": [2], "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]],
 "reduce_concat": [0, 1, 2]}
]=])
elseif(SETUP STREQUAL "genotype_json_bool")
  file(WRITE "${WORK}/g.json" [=[{"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", true]],
 "normal_concat": [2], "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]],
 "reduce_concat": [2]}
]=])
else()
  message(FATAL_ERROR "unknown genotype setup ${SETUP}")
endif()
