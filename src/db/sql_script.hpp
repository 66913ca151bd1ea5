// Splits a migration script into single statements for drivers that run one statement per
// call (MySQL's prepared and text protocols without multi-statement mode). Stateless.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace factoryops::db {

// Splits on ';' outside quotes ('…', "…", `…`) and comments (-- …, # …, /* … */).
// Statements that hold only whitespace or comments are dropped; the returned statements
// keep their comments. DELIMITER and compound statements (BEGIN … END bodies of MySQL
// triggers and procedures) are not supported: keep them out of MySQL migrations.
std::vector<std::string> split_sql_script(std::string_view script);

}  // namespace factoryops::db
