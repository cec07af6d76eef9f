//! A minimal W3C WebDriver client over blocking HTTP: sessions, elements, scripts and
//! screenshots, which is all the desktop tests need from WebKitWebDriver.

use std::time::Duration;

use serde_json::{json, Value};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error answer (`no such element`, `javascript error`…) or a transport failure.
#[derive(Debug)]
pub struct WebDriverError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl std::error::Error for WebDriverError {}

pub type WdResult<T> = Result<T, WebDriverError>;

/// One WebDriver session (one app window).
pub struct Session {
    http: reqwest::blocking::Client,
    base: String,
    id: String,
}

/// A reference to an element of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(pub String);

impl Session {
    /// Creates a session on the driver at `base` (`http://127.0.0.1:PORT`).
    pub fn create(base: &str, capabilities: Value) -> WdResult<Self> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(transport)?;
        let mut session = Session {
            http,
            base: base.trim_end_matches('/').to_owned(),
            id: String::new(),
        };
        let answer = session.send(
            reqwest::Method::POST,
            "/session",
            Some(json!({ "capabilities": capabilities })),
        )?;
        session.id = answer["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError {
                error: "protocol".into(),
                message: format!("no sessionId in {answer}"),
            })?
            .to_owned();
        Ok(session)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> WdResult<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().map_err(transport)?;
        let ok = answer.status().is_success();
        let body: Value = answer.json().map_err(transport)?;
        let value = body.get("value").cloned().unwrap_or(Value::Null);
        if ok {
            return Ok(value);
        }
        Err(WebDriverError {
            error: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        })
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    fn get(&self, rest: &str) -> WdResult<Value> {
        self.send(reqwest::Method::GET, &self.session_path(rest), None)
    }

    fn post(&self, rest: &str, body: Value) -> WdResult<Value> {
        self.send(reqwest::Method::POST, &self.session_path(rest), Some(body))
    }

    /// How long `execute_async` may run before the driver gives up (WebDriver's default is
    /// 30 s; a backup or restore can take longer).
    pub fn set_script_timeout(&self, timeout: Duration) -> WdResult<()> {
        self.post("/timeouts", json!({"script": timeout.as_millis() as u64}))
            .map(drop)
    }

    pub fn title(&self) -> WdResult<String> {
        Ok(self.get("/title")?.as_str().unwrap_or_default().to_owned())
    }

    /// The first element matching a CSS selector, now (no waiting).
    pub fn find(&self, css: &str) -> WdResult<Element> {
        let found = self.post("/element", json!({"using": "css selector", "value": css}))?;
        element_of(&found)
    }

    pub fn find_all(&self, css: &str) -> WdResult<Vec<Element>> {
        let found = self.post("/elements", json!({"using": "css selector", "value": css}))?;
        found
            .as_array()
            .map(|all| all.iter().map(element_of).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    }

    pub fn click(&self, element: &Element) -> WdResult<()> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .map(drop)
    }

    pub fn clear(&self, element: &Element) -> WdResult<()> {
        self.post(&format!("/element/{}/clear", element.0), json!({}))
            .map(drop)
    }

    /// Types `text` into the element (keys are sent as typed by a person).
    pub fn send_keys(&self, element: &Element, text: &str) -> WdResult<()> {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({"text": text}),
        )
        .map(drop)
    }

    /// The element's rendered text.
    pub fn text(&self, element: &Element) -> WdResult<String> {
        let text = self.get(&format!("/element/{}/text", element.0))?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    pub fn attribute(&self, element: &Element, name: &str) -> WdResult<Option<String>> {
        let value = self.get(&format!("/element/{}/attribute/{name}", element.0))?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// Runs `script`, whose last argument is the callback that ends it with a result.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/async", json!({"script": script, "args": args}))
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> WdResult<Vec<u8>> {
        use base64::Engine as _;
        let encoded = self.get("/screenshot")?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(|e| WebDriverError {
                error: "protocol".into(),
                message: format!("the screenshot is not base64: {e}"),
            })
    }

    pub fn delete(&self) -> WdResult<()> {
        self.send(reqwest::Method::DELETE, &self.session_path(""), None)
            .map(drop)
    }
}

fn element_of(value: &Value) -> WdResult<Element> {
    value[ELEMENT_KEY]
        .as_str()
        .map(|id| Element(id.to_owned()))
        .ok_or_else(|| WebDriverError {
            error: "protocol".into(),
            message: format!("not an element reference: {value}"),
        })
}

fn transport(error: reqwest::Error) -> WebDriverError {
    WebDriverError {
        error: "transport".into(),
        message: error.to_string(),
    }
}
