//! Finding a request's route in the table (matchit, as axum does).

use http::Method;

use crate::handler::BoxHandler;
use crate::table::{Methods, Route};

/// One path of the table with every method it answers.
#[derive(Debug)]
pub(crate) struct PathRoutes {
    pub(crate) path: &'static str,
    pub(crate) shared: bool,
    pub(crate) methods: Vec<(Methods, BoxHandler)>,
}

/// What a request matched.
#[derive(Debug)]
pub(crate) enum Found<'a> {
    /// A handler, with the path parameters (raw, as in the URI).
    Handler(&'a BoxHandler, Vec<(String, String)>),
    /// The path is the control plane's but not with this method: `405` with `Allow`.
    MethodNotAllowed(Vec<Method>),
    /// Not the control plane's.
    None,
}

/// The table, indexed by path.
#[derive(Debug, Default)]
pub(crate) struct Router {
    paths: Vec<PathRoutes>,
    index: matchit::Router<usize>,
}

impl Router {
    /// The routes of `table`; a path given twice answers with every method given for it.
    pub(crate) fn new(table: Vec<Route>) -> Result<Self, matchit::InsertError> {
        let mut router = Self::default();
        for route in table {
            match router.paths.iter_mut().find(|p| p.path == route.path) {
                Some(existing) => {
                    existing.shared &= route.shared;
                    existing.methods.push((route.methods, route.handler));
                }
                None => {
                    router.index.insert(route.path, router.paths.len())?;
                    router.paths.push(PathRoutes {
                        path: route.path,
                        shared: route.shared,
                        methods: vec![(route.methods, route.handler)],
                    });
                }
            }
        }
        Ok(router)
    }

    /// Every path with its routes.
    #[cfg(test)]
    pub(crate) fn paths(&self) -> &[PathRoutes] {
        &self.paths
    }

    /// The route of `method` `path`.
    pub(crate) fn find(&self, method: &Method, path: &str) -> Found<'_> {
        let Ok(matched) = self.index.at(path) else {
            return Found::None;
        };
        let Some(routes) = self.paths.get(*matched.value) else {
            return Found::None;
        };
        let wanted = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let handler = routes.methods.iter().find(|(methods, _)| match methods {
            Methods::One(one) => one == wanted,
            Methods::Any => true,
        });
        match handler {
            Some((_, handler)) => {
                let params = (matched.params.iter())
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect();
                Found::Handler(handler, params)
            }
            None if routes.shared => Found::None,
            None => Found::MethodNotAllowed(
                (routes.methods.iter())
                    .filter_map(|(methods, _)| match methods {
                        Methods::One(one) => Some(one.clone()),
                        Methods::Any => None,
                    })
                    .collect(),
            ),
        }
    }
}
