//! [`managed_handlers!`]: the handlers of one kind of managed object, each with its
//! `#[utoipa::path]` annotation, calling the flow of [`super::managed`]. Written once for
//! every kind; a kind's module names its operations with their documentation (which is
//! their OpenAPI summary and description) and its JSON shapes.

/// The handlers of the kind `$kind` (a [`Managed`](super::managed::Managed) or
/// [`ManagedObject`](super::managed::ManagedObject)) under `/api/v1/$tag`, `$one` describing
/// the `{name}` path parameter. Each operation, after its doc comment, is one of:
///
/// - `list -> Item [extra responses];` (`GET /api/v1/$tag`)
/// - `read -> Item [extra responses];` (`GET /api/v1/$tag/{name}`)
/// - `create(Spec) -> CreatedItem;` (`POST /api/v1/$tag`: 201)
/// - `update(Spec) -> Item;` (`PUT /api/v1/$tag/{name}`)
/// - `delete;` (`DELETE /api/v1/$tag/{name}`: 204)
/// - `enable;` and `disable;` (`POST /api/v1/$tag/{name}/enable|disable`: 204)
///
/// The handlers are named after their operation (which is also their OpenAPI operation id).
macro_rules! managed_handlers {
    ($kind:ident, $tag:tt, $one:tt;) => {};
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* list -> $item:ident [$($extra:tt),*]; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = concat!("/api/v1/", $tag), tag = $tag,
            responses((status = 200, body = Vec<$item>),
                (status = 401, body = crate::api::error::ErrorBody) $(, $extra)*),
            security(("bearer" = []), ("session" = [])))]
        pub(crate) async fn list(
            state: crate::request::State<crate::state::AdminState>,
            auth: crate::api::extract::Auth,
        ) -> Result<crate::reply::Json<Vec<$item>>, crate::api::error::ApiError> {
            super::managed::list::<$kind>(state, auth).await
        }
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* read -> $item:ident [$($extra:tt),*]; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(get, path = concat!("/api/v1/", $tag, "/{name}"), tag = $tag,
            params(("name" = String, Path, description = $one)),
            responses((status = 200, body = $item),
                (status = 401, body = crate::api::error::ErrorBody),
                (status = 404, body = crate::api::error::ErrorBody) $(, $extra)*),
            security(("bearer" = []), ("session" = [])))]
        pub(crate) async fn read(
            state: crate::request::State<crate::state::AdminState>,
            auth: crate::api::extract::Auth,
            name: crate::request::Path<String>,
        ) -> Result<crate::reply::Json<$item>, crate::api::error::ApiError> {
            super::managed::read::<$kind>(state, auth, name).await
        }
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* create($spec:ident) -> $created:ident; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = concat!("/api/v1/", $tag), tag = $tag, request_body = $spec,
            responses((status = 201, body = $created),
                (status = 400, body = crate::api::error::ErrorBody, description = "The body is not JSON"),
                (status = 401, body = crate::api::error::ErrorBody),
                (status = 403, body = crate::api::error::ErrorBody),
                (status = 409, body = crate::api::error::ErrorBody),
                (status = 422, body = crate::api::error::ErrorBody),
                (status = 503, body = crate::api::error::ErrorBody)),
            security(("bearer" = []), ("session" = [])))]
        pub(crate) async fn create(
            state: crate::request::State<crate::state::AdminState>,
            auth: crate::api::extract::Auth,
            spec: crate::api::extract::ApiJson<$spec>,
        ) -> Result<(http::StatusCode, crate::reply::Json<$created>), crate::api::error::ApiError>
        {
            super::managed::create::<$kind>(state, auth, spec).await
        }
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* update($spec:ident) -> $item:ident; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(put, path = concat!("/api/v1/", $tag, "/{name}"), tag = $tag,
            request_body = $spec,
            params(("name" = String, Path, description = $one)),
            responses((status = 200, body = $item),
                (status = 400, body = crate::api::error::ErrorBody, description = "The body is not JSON"),
                (status = 401, body = crate::api::error::ErrorBody),
                (status = 403, body = crate::api::error::ErrorBody),
                (status = 404, body = crate::api::error::ErrorBody),
                (status = 409, body = crate::api::error::ErrorBody),
                (status = 422, body = crate::api::error::ErrorBody),
                (status = 503, body = crate::api::error::ErrorBody)),
            security(("bearer" = []), ("session" = [])))]
        pub(crate) async fn update(
            state: crate::request::State<crate::state::AdminState>,
            auth: crate::api::extract::Auth,
            name: crate::request::Path<String>,
            spec: crate::api::extract::ApiJson<$spec>,
        ) -> Result<crate::reply::Json<$item>, crate::api::error::ApiError> {
            super::managed::update::<$kind>(state, auth, name, spec).await
        }
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* delete; $($rest:tt)*
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(delete, path = concat!("/api/v1/", $tag, "/{name}"), tag = $tag,
            params(("name" = String, Path, description = $one)),
            responses((status = 204, description = "Deleted"),
                (status = 401, body = crate::api::error::ErrorBody),
                (status = 403, body = crate::api::error::ErrorBody),
                (status = 404, body = crate::api::error::ErrorBody),
                (status = 409, body = crate::api::error::ErrorBody),
                (status = 503, body = crate::api::error::ErrorBody)),
            security(("bearer" = []), ("session" = [])))]
        pub(crate) async fn delete(
            state: crate::request::State<crate::state::AdminState>,
            auth: crate::api::extract::Auth,
            name: crate::request::Path<String>,
        ) -> Result<http::StatusCode, crate::api::error::ApiError> {
            super::managed::delete::<$kind>(state, auth, name).await
        }
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* enable; $($rest:tt)*
    ) => {
        $crate::api::objects::handlers::managed_handlers!(
            @state $kind, $tag, $one, enable, "/enable", "Enabled", true, $(#[doc = $doc])*
        );
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    ($kind:ident, $tag:tt, $one:tt;
        $(#[doc = $doc:tt])* disable; $($rest:tt)*
    ) => {
        $crate::api::objects::handlers::managed_handlers!(
            @state $kind, $tag, $one, disable, "/disable", "Disabled", false, $(#[doc = $doc])*
        );
        $crate::api::objects::handlers::managed_handlers!($kind, $tag, $one; $($rest)*);
    };
    (@state $kind:ident, $tag:tt, $one:tt, $op:ident, $suffix:tt, $done:tt, $enabled:tt,
        $(#[doc = $doc:tt])*
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = concat!("/api/v1/", $tag, "/{name}", $suffix), tag = $tag,
            params(("name" = String, Path, description = $one), super::state::StateParams),
            responses((status = 204, description = $done),
                (status = 401, body = crate::api::error::ErrorBody),
                (status = 403, body = crate::api::error::ErrorBody),
                (status = 404, body = crate::api::error::ErrorBody),
                (status = 422, body = crate::api::error::ErrorBody, description = "The reason is too long"),
                (status = 503, body = crate::api::error::ErrorBody)),
            security(("bearer" = []), ("session" = [])))]
        pub(crate) async fn $op(
            state: crate::request::State<crate::state::AdminState>,
            auth: crate::api::extract::Auth,
            name: crate::request::Path<String>,
            params: crate::api::extract::ApiQuery<super::state::StateParams>,
        ) -> Result<http::StatusCode, crate::api::error::ApiError> {
            super::managed::set_enabled::<$kind>(state, auth, name, params, $enabled).await
        }
    };
}

pub(crate) use managed_handlers;
