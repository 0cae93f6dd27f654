//! Connect to Azure AD: the sign-in method and its fields. On Next it signs in (device code shows a panel with
//! the code and the URL while the runtime polls; Cancel stops it) and shows who signed in, the tenant, the role
//! verdict and the tenant warnings. A refused role stops here with the reason; Next signs in again.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{PageLogic, nav_buttons};
use crate::answers::{Answers, Cloud, Features};
use crate::cloud::endpoints::Environment;
use crate::cloud::signin::SignInMethod;
use crate::error::Error;
use crate::secret::SecretRef;
use crate::wizard::data::{CloudSummary, DevicePrompt, Verdict};
use crate::wizard::field::TextField;
use crate::wizard::keys::{self, Hint};
use crate::wizard::{Button, Effect, Model, Page, Target, goto, typed};

pub const METHODS: [&str; 4] = [
    "Device code (a browser on any device; works with MFA)",
    "Username and password (no MFA)",
    "Client credentials (an application)",
    "Skip: do not check Microsoft Entra ID",
];
const SKIP: usize = 3;

#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Status {
    Idle,
    /// `id`: the request; a result or device code of an earlier (cancelled) sign-in is dropped.
    SigningIn {
        id: u64,
        prompt: Option<DevicePrompt>,
    },
    Done {
        key: Cloud,
        summary: CloudSummary,
    },
}

#[derive(Debug)]
pub struct State {
    pub method: usize,
    pub tenant: TextField,
    pub username: TextField,
    pub password: TextField,
    pub client_id: TextField,
    pub client_secret: TextField,
    /// The cloud section as loaded: environment, endpoint overrides, secret references, certificate.
    pub draft: Cloud,
    pub status: Status,
    /// A validation or sign-in error, shown at its field.
    pub error: Option<(Target, String)>,
}

fn empty_cloud() -> Cloud {
    Cloud {
        environment: Environment::default(),
        tenant: String::new(),
        sign_in: SignInMethod::DeviceCode,
        username: None,
        password: None,
        client_id: None,
        client_secret: None,
        client_certificate: None,
        client_certificate_key: None,
        authority_url: None,
        graph_url: None,
    }
}

impl State {
    pub fn from_answers(a: &Answers) -> Self {
        let (method, draft) = match &a.cloud {
            Some(c) => (
                match c.sign_in {
                    SignInMethod::DeviceCode => 0,
                    SignInMethod::Password => 1,
                    SignInMethod::ClientCredentials => 2,
                },
                c.clone(),
            ),
            None if !a.directories.is_empty() => (SKIP, empty_cloud()),
            None => (0, empty_cloud()),
        };
        let mut password = TextField::masked();
        let mut client_secret = TextField::masked();
        password.clear();
        client_secret.clear();
        Self {
            method,
            tenant: TextField::new(&draft.tenant),
            username: TextField::new(draft.username.as_deref().unwrap_or_default()),
            password,
            client_id: TextField::new(draft.client_id.as_deref().unwrap_or_default()),
            client_secret,
            draft,
            status: Status::Idle,
            error: None,
        }
    }

    pub fn busy(&self) -> bool {
        matches!(self.status, Status::SigningIn { .. })
    }

    pub fn skip(&self) -> bool {
        self.method == SKIP
    }

    pub fn sign_in(&self) -> SignInMethod {
        match self.method {
            1 => SignInMethod::Password,
            2 => SignInMethod::ClientCredentials,
            _ => SignInMethod::DeviceCode,
        }
    }

    fn uses_certificate(&self) -> bool {
        self.draft.client_certificate.is_some()
    }

    /// The `[cloud]` section these fields make, in saved form (`None` for Skip).
    pub fn cloud(&self) -> Option<Cloud> {
        if self.skip() {
            return None;
        }
        let text = |f: &TextField| Some(f.text().trim().to_string()).filter(|t| !t.is_empty());
        let mut c = self.draft.clone();
        c.tenant = self.tenant.text().trim().to_string();
        c.sign_in = self.sign_in();
        c.username = text(&self.username);
        c.client_id = text(&self.client_id);
        match c.sign_in {
            SignInMethod::Password => {
                if c.password.is_none() && !self.password.is_empty() {
                    c.password = Some(SecretRef::Prompt);
                }
            }
            _ => c.password = None,
        }
        match c.sign_in {
            SignInMethod::ClientCredentials if !self.uses_certificate() => {
                if c.client_secret.is_none() && !self.client_secret.is_empty() {
                    c.client_secret = Some(SecretRef::Prompt);
                }
            }
            SignInMethod::ClientCredentials => {}
            _ => {
                c.client_secret = None;
                c.client_certificate = None;
                c.client_certificate_key = None;
            }
        }
        Some(c)
    }

    /// Replaces `prompt` (or a reference) by what was typed, for the runtime only.
    pub fn put_typed_secrets(&self, c: &mut Cloud) {
        if c.sign_in == SignInMethod::Password
            && let Some(s) = self.password.secret()
        {
            c.password = Some(typed(s));
        }
        if c.sign_in == SignInMethod::ClientCredentials
            && let Some(s) = self.client_secret.secret()
        {
            c.client_secret = Some(typed(s));
        }
    }

    fn field(&mut self, t: Target) -> Option<&mut TextField> {
        match t {
            Target::Tenant => Some(&mut self.tenant),
            Target::Username => Some(&mut self.username),
            Target::CloudPassword => Some(&mut self.password),
            Target::ClientId => Some(&mut self.client_id),
            Target::ClientSecret => Some(&mut self.client_secret),
            _ => None,
        }
    }

    /// A secret that must be typed: the reference is `prompt` (or absent) and nothing is typed.
    fn needs_password(&self) -> bool {
        self.sign_in() == SignInMethod::Password
            && !self.skip()
            && matches!(self.draft.password, None | Some(SecretRef::Prompt))
            && self.password.is_empty()
    }

    fn needs_client_secret(&self) -> bool {
        self.sign_in() == SignInMethod::ClientCredentials
            && !self.skip()
            && !self.uses_certificate()
            && matches!(self.draft.client_secret, None | Some(SecretRef::Prompt))
            && self.client_secret.is_empty()
    }
}

fn sync(m: &mut Model) {
    m.answers.cloud = m.azure.cloud();
}

pub struct AzureAd;

impl PageLogic for AzureAd {
    fn focusables(&self, m: &Model) -> Vec<Target> {
        let a = &m.azure;
        if a.busy() {
            return vec![Target::Button(Button::Cancel)];
        }
        let mut v = vec![Target::SignInMethod];
        if !a.skip() {
            v.push(Target::Tenant);
            match a.sign_in() {
                SignInMethod::DeviceCode => v.push(Target::Username),
                SignInMethod::Password => {
                    v.push(Target::Username);
                    v.push(Target::CloudPassword);
                }
                SignInMethod::ClientCredentials => {
                    v.push(Target::ClientId);
                    if !a.uses_certificate() {
                        v.push(Target::ClientSecret);
                    }
                }
            }
        }
        v.extend(nav_buttons(m, Button::Next));
        v
    }

    fn initial_focus(&self, m: &Model) -> Target {
        let a = &m.azure;
        if a.skip() {
            return Target::Button(Button::Next);
        }
        if a.tenant.text().trim().is_empty() {
            return Target::Tenant;
        }
        if a.sign_in() == SignInMethod::Password && a.username.text().trim().is_empty() {
            return Target::Username;
        }
        if a.needs_password() {
            return Target::CloudPassword;
        }
        if a.sign_in() == SignInMethod::ClientCredentials && a.client_id.text().trim().is_empty() {
            return Target::ClientId;
        }
        if a.needs_client_secret() {
            return Target::ClientSecret;
        }
        Target::Button(Button::Next)
    }

    fn key(&self, m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
        if m.azure.busy() {
            return None;
        }
        let focus = m.focus;
        if focus == Target::SignInMethod {
            let n = METHODS.len();
            let next = match k.code {
                KeyCode::Up | KeyCode::Left => (m.azure.method + n - 1) % n,
                KeyCode::Down | KeyCode::Right | KeyCode::Char(' ') => (m.azure.method + 1) % n,
                _ => return None,
            };
            m.azure.method = next;
            m.azure.error = None;
            sync(m);
            return Some(Vec::new());
        }
        if k.code == KeyCode::Enter {
            return None;
        }
        let field = m.azure.field(focus)?;
        if field.key(k) {
            m.azure.error = None;
            sync(m);
            return Some(Vec::new());
        }
        None
    }

    fn activate(&self, m: &mut Model, b: Button) -> Vec<Effect> {
        if b != Button::Next {
            return Vec::new();
        }
        sync(m);
        let Some(cloud) = m.answers.cloud.clone() else {
            m.azure.status = Status::Idle;
            return goto(m, Page::Directories);
        };
        let probe = Answers {
            version: crate::answers::VERSION,
            directories: Vec::new(),
            features: Features::default(),
            cloud: Some(cloud.clone()),
        };
        if let Err(e) = probe.validate() {
            let target = target_of(&e.message);
            m.azure.error = Some((target, e.to_string()));
            m.focus = target;
            return Vec::new();
        }
        if m.azure.needs_password() {
            m.azure.error = Some((
                Target::CloudPassword,
                "cloud.password: type the password (it is kept in memory only)".into(),
            ));
            m.focus = Target::CloudPassword;
            return Vec::new();
        }
        if m.azure.needs_client_secret() {
            m.azure.error = Some((
                Target::ClientSecret,
                "cloud.client_secret: type the client secret (it is kept in memory only)".into(),
            ));
            m.focus = Target::ClientSecret;
            return Vec::new();
        }
        if let Status::Done { key, summary } = &m.azure.status
            && *key == cloud
            && summary.verdict != Verdict::Refuse
        {
            return goto(m, Page::Directories);
        }
        m.azure.error = None;
        let id = m.request_id();
        m.azure.status = Status::SigningIn { id, prompt: None };
        m.focus = Target::Button(Button::Cancel);
        let mut runtime = cloud.clone();
        m.azure.put_typed_secrets(&mut runtime);
        vec![Effect::SignIn {
            id,
            key: cloud,
            cloud: runtime,
        }]
    }

    fn cancel(&self, m: &mut Model) -> Option<Vec<Effect>> {
        if m.azure.busy() {
            m.azure.status = Status::Idle;
            m.azure.error = Some((
                Target::SignInMethod,
                "sign-in cancelled: press Next to sign in again".into(),
            ));
            m.focus = Target::Button(Button::Next);
            return Some(vec![Effect::CancelSignIn]);
        }
        None
    }

    fn back(&self, m: &mut Model) -> Option<Vec<Effect>> {
        self.cancel(m)
    }

    fn hints(&self, m: &Model, out: &mut Vec<Hint>) {
        if m.azure.busy() {
            out.push(Hint {
                key: "Esc",
                action: "cancel sign-in",
                enabled: true,
            });
            return;
        }
        if m.focus == Target::SignInMethod {
            out.push(Hint {
                key: "↑↓/Space",
                action: "choose method",
                enabled: true,
            });
        }
        out.push(Hint {
            key: "Enter",
            action: "Next (sign in)",
            enabled: true,
        });
        let _ = keys::ENTER;
    }

    fn select_row(&self, m: &mut Model, t: Target, row: usize, _check: bool) -> Vec<Effect> {
        if t == Target::SignInMethod && row < METHODS.len() && !m.azure.busy() {
            m.azure.method = row;
            sync(m);
        }
        Vec::new()
    }
}

/// The field an error is about, from the `cloud.<key>:` its message starts with or what it says.
fn target_of(message: &str) -> Target {
    let lower = message.to_ascii_lowercase();
    if lower.contains("cloud.tenant") || lower.contains("no such tenant") {
        Target::Tenant
    } else if lower.contains("cloud.username") || lower.contains("no such user") {
        Target::Username
    } else if lower.contains("cloud.password")
        || lower.contains("invalid username or password")
        || lower.contains("password has expired")
    {
        Target::CloudPassword
    } else if lower.contains("client_secret") || lower.contains("client secret") {
        Target::ClientSecret
    } else if lower.contains("client_id") || lower.contains("no such application") {
        Target::ClientId
    } else {
        Target::SignInMethod
    }
}

pub fn device_prompt(m: &mut Model, id: u64, p: DevicePrompt) -> Vec<Effect> {
    if let Status::SigningIn {
        id: current,
        prompt,
    } = &mut m.azure.status
        && *current == id
    {
        *prompt = Some(p);
    }
    Vec::new()
}

pub fn signed_in(
    m: &mut Model,
    id: u64,
    key: Cloud,
    result: Result<CloudSummary, Error>,
) -> Vec<Effect> {
    let current = matches!(m.azure.status, Status::SigningIn { id: c, .. } if c == id);
    if !current || m.answers.cloud.as_ref() != Some(&key) {
        return Vec::new();
    }
    match result {
        Ok(summary) => {
            m.azure.status = Status::Done { key, summary };
            m.azure.error = None;
        }
        Err(e) => {
            m.azure.status = Status::Idle;
            let target = target_of(&e.message);
            m.azure.error = Some((target, e.to_string()));
        }
    }
    if m.page == Page::AzureAd {
        m.focus = Target::Button(Button::Next);
    }
    Vec::new()
}
