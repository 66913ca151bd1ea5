// The one translation unit that compiles Asio and Beast (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set for the whole library): every other file only sees
// declarations, which keeps a clean build on two cores short.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
