// Conversion between a described message struct and the JSON object of an envelope's "data".
// Boost.Describe lists the fields; Boost.JSON's value_from / try_value_to convert each one. The
// rules, the same on every Boost version: a std::optional field may be absent or null, any other
// field must be present; an integer field takes JSON integers only (not 2.0 or 1e3); unknown fields
// are ignored; a failure names the field and what it needed.
#pragma once

#include <boost/describe/members.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <boost/mp11/algorithm.hpp>

#include <optional>
#include <string>
#include <type_traits>

namespace coropush::protocol {

namespace detail {

template <class T>
struct is_optional : std::false_type {
};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {
};

// "a string", "an unsigned integer", ...: what a field of type T must hold, for error messages.
template <class T>
constexpr char const* expected_json()
{
    if constexpr (is_optional<T>::value)
        return expected_json<typename T::value_type>();
    else if constexpr (std::is_same_v<T, bool>)
        return "true or false";
    else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) <= 4)
        return "an unsigned 32-bit integer";
    else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>)
        return "an unsigned 64-bit integer";
    else if constexpr (std::is_integral_v<T>)
        return "an integer";
    else if constexpr (std::is_floating_point_v<T>)
        return "a number";
    else if constexpr (std::is_convertible_v<T, std::string_view>)
        return "a string";
    else
        return "an object";
}

template <class T>
struct unwrapped {
    using type = T;
};
template <class T>
struct unwrapped<std::optional<T>> {
    using type = T;
};

// An integer field takes a JSON integer only: Boost.JSON would also convert 2.0 or 1e3, written
// as numbers with a fraction or an exponent, and the protocol's numbers are plain integers.
template <class T>
constexpr bool is_integer_field()
{
    using type = typename unwrapped<T>::type;
    return std::is_integral_v<type> && !std::is_same_v<type, bool>;
}

template <class Message>
using fields = boost::describe::describe_members<Message, boost::describe::mod_public>;

// A field that holds any JSON value (`data` of a topic message), optional or not.
template <class T>
constexpr bool is_json_value()
{
    if constexpr (is_optional<T>::value)
        return std::is_same_v<typename T::value_type, boost::json::value>;
    else
        return std::is_same_v<T, boost::json::value>;
}

}  // namespace detail

// The "data" object of a message. Absent optional fields are left out rather than written as null.
template <class Message>
boost::json::object to_data(Message const& message, boost::json::storage_ptr storage = {})
{
    boost::json::object data(storage);
    boost::mp11::mp_for_each<detail::fields<Message>>([&](auto field) {
        auto const& value = message.*field.pointer;
        using field_type = std::remove_cvref_t<decltype(value)>;
        if constexpr (detail::is_optional<field_type>::value) {
            if (value)
                data.emplace(field.name, boost::json::value_from(*value, storage));
        } else {
            data.emplace(field.name, boost::json::value_from(value, storage));
        }
    });
    return data;
}

// Fills `message` from a "data" object. Returns an error message naming the first bad field, or
// nothing when every field converted.
template <class Message>
std::optional<std::string> from_data(boost::json::object const& data, Message& message)
{
    std::optional<std::string> failure;
    boost::mp11::mp_for_each<detail::fields<Message>>([&](auto field) {
        if (failure)
            return;
        auto& target = message.*field.pointer;
        using field_type = std::remove_cvref_t<decltype(target)>;
        auto const found = data.find(field.name);
        bool const absent = found == data.end() || found->value().is_null();
        if (absent) {
            if constexpr (detail::is_optional<field_type>::value)
                target.reset();
            else
                failure = std::string("data.") + field.name + " is missing";
            return;
        }
        if constexpr (detail::is_json_value<field_type>()) {
            // A copy in the default memory resource: `data` may come from a parse that used a
            // scratch buffer, which is gone once decoding returns (a json::value copy would
            // otherwise keep pointing at it).
            target = boost::json::value(found->value(), boost::json::storage_ptr());
            return;
        }
        auto converted = boost::json::try_value_to<field_type>(found->value());
        if (!converted || (detail::is_integer_field<field_type>() && found->value().is_double())) {
            failure = std::string("data.") + field.name + " must be " + detail::expected_json<field_type>();
            return;
        }
        target = std::move(*converted);
    });
    return failure;
}

}  // namespace coropush::protocol
