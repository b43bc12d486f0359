//! `Decision`: the core's decision with what the host learned beside it (the principal the
//! policy decided for, the grant chain, what happened to the approval), as typed attributes.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};
use writ::identity::{ApprovalUse, Checked};
use writ::{Effect, Principal};

use crate::convert::to_py;

/// What one check decided. Never truthy or falsy: test `decision.allowed`.
#[pyclass(frozen, module = "writ._writ", name = "Decision")]
pub struct Decision {
    pub(crate) inner: writ::Decision,
    pub(crate) principal: Option<Principal>,
    pub(crate) resource: String,
    delegates: Vec<String>,
    approval: ApprovalUse,
    policy_effect: Option<Effect>,
}

impl Decision {
    pub(crate) fn new(checked: Checked, resource: String) -> Decision {
        let delegates = checked
            .grant
            .as_ref()
            .map(|g| g.links().iter().map(|l| l.sub.clone()).collect())
            .unwrap_or_default();
        Decision {
            inner: checked.decision,
            principal: checked.principal,
            resource,
            delegates,
            approval: checked.approval,
            policy_effect: checked.policy_effect,
        }
    }
}

/// The `writ.Effect` members, imported once.
static EFFECTS: PyOnceLock<[Py<PyAny>; 3]> = PyOnceLock::new();

/// `effect` as a member of the `writ.Effect` enum (a `str` subclass).
pub(crate) fn effect_member(py: Python<'_>, effect: Effect) -> PyResult<Bound<'_, PyAny>> {
    let members = EFFECTS.get_or_try_init(py, || -> PyResult<[Py<PyAny>; 3]> {
        let cls = py.import("writ._types")?.getattr("Effect")?;
        Ok([
            cls.getattr("ALLOW")?.unbind(),
            cls.getattr("APPROVAL_REQUIRED")?.unbind(),
            cls.getattr("DENY")?.unbind(),
        ])
    })?;
    let [allow, approval, deny] = members;
    Ok(match effect {
        Effect::Allow => allow,
        Effect::ApprovalRequired => approval,
        Effect::Deny => deny,
    }
    .bind(py)
    .clone())
}

#[pymethods]
impl Decision {
    /// `Effect.ALLOW`, `Effect.DENY` or `Effect.APPROVAL_REQUIRED` (equal to the strings
    /// `"allow"`, `"deny"`, `"approval_required"`).
    #[getter]
    fn effect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        effect_member(py, self.inner.effect)
    }

    /// True only for `allow`.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.effect == Effect::Allow
    }

    /// True for `approval_required`.
    #[getter]
    fn approval_required(&self) -> bool {
        self.inner.effect == Effect::ApprovalRequired
    }

    /// Ids of the rules that decided, in policy order (empty when a default decided).
    #[getter]
    fn rules(&self) -> Vec<String> {
        self.inner.rules.clone()
    }

    /// Why, in one line.
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }

    /// The request's digest: what an approval or a single-use grant binds to.
    #[getter]
    fn digest(&self) -> &str {
        &self.inner.digest
    }

    /// The version (hash) of the policy that decided.
    #[getter]
    fn policy(&self) -> &str {
        &self.inner.policy
    }

    /// The resource the request named.
    #[getter]
    fn resource(&self) -> &str {
        &self.resource
    }

    /// Id of the principal the policy decided for (a grant chain's root), or None when the
    /// request was refused before one was established.
    #[getter]
    fn principal(&self) -> Option<&str> {
        self.principal.as_ref().map(|p| p.id.as_str())
    }

    /// Groups of that principal.
    #[getter]
    fn groups(&self) -> Vec<String> {
        self.principal.as_ref().map(|p| p.groups.clone()).unwrap_or_default()
    }

    /// The delegates of the verified grant chain, root grant first (empty without a grant).
    #[getter]
    fn delegates(&self) -> Vec<String> {
        self.delegates.clone()
    }

    /// The effect the policy alone gave, before grant scopes and approvals (None when the
    /// request was refused before the policy was consulted).
    #[getter]
    fn policy_effect<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.policy_effect.map(|e| effect_member(py, e)).transpose()
    }

    /// What happened to the request's approval token: `"none"`, `"unused"`, `"honoured"` or
    /// `"rejected"`.
    #[getter]
    fn approval_status(&self) -> &'static str {
        match self.approval {
            ApprovalUse::None => "none",
            ApprovalUse::Unused => "unused",
            ApprovalUse::Honoured { .. } => "honoured",
            ApprovalUse::Rejected(_) => "rejected",
        }
    }

    /// Who approved, when an approval was honoured.
    #[getter]
    fn approver(&self) -> Option<&str> {
        match &self.approval {
            ApprovalUse::Honoured { approver, .. } => Some(approver),
            _ => None,
        }
    }

    /// Why the approval was rejected, when it was.
    #[getter]
    fn approval_error(&self) -> Option<String> {
        match &self.approval {
            ApprovalUse::Rejected(e) => Some(e.to_string()),
            _ => None,
        }
    }

    /// Output names of the result columns the mask plan masks, in order (empty without a plan).
    #[getter]
    fn masked_columns(&self) -> Vec<String> {
        self.inner
            .mask
            .as_ref()
            .map(|p| p.masked_names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The mask plan as a dict (the JSON contract), or None.
    #[getter]
    fn mask_plan<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.mask.as_ref().map(|p| json_of(py, serde_json::to_value(p))).transpose()
    }

    /// One dict per part (statement, command, ...): `effect`, `rules`, `reason`.
    #[getter]
    fn parts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for part in &self.inner.parts {
            let d = PyDict::new(py);
            d.set_item("effect", effect_member(py, part.effect)?)?;
            d.set_item("rules", part.rules.clone())?;
            d.set_item("reason", &part.reason)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// What the engine saw (classified SQL, parsed commands, ...) as a dict, or None.
    #[getter]
    fn view<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.view.as_ref().map(|v| json_of(py, serde_json::to_value(v))).transpose()
    }

    /// The decision as a dict: the JSON contract (`effect`, `rules`, `reason`, `digest`,
    /// `policy`, `parts`, `view`, `mask`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_of(py, serde_json::to_value(&self.inner))
    }

    /// The decision as one line of JSON (the JSON contract).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    fn __bool__(&self) -> PyResult<bool> {
        Err(PyTypeError::new_err(
            "a Decision has no truth value: test `decision.allowed` (deny and approval_required are not allowed)",
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(effect='{}', rules={:?}, reason={:?})",
            self.inner.effect, self.inner.rules, self.inner.reason
        )
    }
}

fn json_of<'py>(
    py: Python<'py>,
    value: serde_json::Result<serde_json::Value>,
) -> PyResult<Bound<'py, PyAny>> {
    let json = value.map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    to_py(py, &json)
}
