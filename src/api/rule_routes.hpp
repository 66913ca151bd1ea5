// The rules' HTTP routes (docs/api-rules.md): /api/v1/rules, /api/v1/rules/{id}, the test of a
// saved rule and of a draft. Handlers only translate JSON to RuleService calls and back; a
// validation error answers 422 naming the field. The authenticator and the service must
// outlive the router.
#pragma once

#include <boost/json/object.hpp>

#include "auth/authenticator.hpp"
#include "http/router.hpp"
#include "rules/rule_service.hpp"

namespace factoryops::api {

void register_rule_routes(http::Router& router, const auth::Authenticator& authenticator,
                          rules::RuleService& service);

// The API shape of a stored rule (docs/rules.md plus id, version, created_at, updated_at) and of
// a test's answer.
boost::json::object stored_rule_json(const rules::StoredRule& stored);
boost::json::object test_report_json(const rules::TestReport& report);

}  // namespace factoryops::api
