// What a venue parser says about one message. See hftx/md/parse.hpp.
#include "hftx/md/parse.hpp"

#include "md/json_detail.hpp"

namespace hftx::md {

std::string ParseResult::describe() const { return detail::describe_result(*this); }

}  // namespace hftx::md
