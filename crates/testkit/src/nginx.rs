//! Debian nginx as the reverse proxy in front of several servers, as a deployment on
//! more than one machine runs it (the config is the one the README shows): round robin,
//! `X-Forwarded-For` appended, the next server tried when one refuses connections. Its
//! own prefix, config, logs and temp dirs in a folder of its own; one process
//! (`master_process off`), killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

pub struct Nginx {
    pub base: String,
    pub dir: PathBuf,
    child: Child,
}

/// The `http` block's server part the README documents, for `upstreams` and `listen`.
pub fn site_config(upstreams: &[u16], listen: &str) -> String {
    let servers: String =
        upstreams.iter().map(|p| format!("        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;\n")).collect();
    format!(
        "    upstream bhxh {{\n{servers}    }}\n\
         \x20   server {{\n\
         \x20       listen {listen};\n\
         \x20       client_max_body_size 64k;\n\
         \x20       location / {{\n\
         \x20           proxy_pass http://bhxh;\n\
         \x20           proxy_set_header Host $host;\n\
         \x20           # Appends the peer to what the client sent: the server believes only the part its trusted proxies wrote.\n\
         \x20           proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
         \x20           proxy_set_header X-Forwarded-Proto $scheme;\n\
         \x20           # A server that is down is skipped (a request not yet sent is safe to send elsewhere).\n\
         \x20           proxy_next_upstream error timeout;\n\
         \x20           proxy_connect_timeout 2s;\n\
         \x20           proxy_read_timeout 30s;\n\
         \x20       }}\n\
         \x20   }}\n"
    )
}

impl Nginx {
    /// nginx on a loopback port of its own in front of the servers on `upstreams`.
    pub fn start(dir: PathBuf, upstreams: &[u16]) -> Nginx {
        std::fs::create_dir_all(&dir).unwrap();
        for _ in 0..5 {
            let port = free_port();
            let d = dir.display();
            let conf = format!(
                "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
                 events {{ worker_connections 512; }}\n\
                 http {{\n    access_log {d}/access.log;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
                 \x20   fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{}}}\n",
                site_config(upstreams, &format!("127.0.0.1:{port}"))
            );
            std::fs::write(dir.join("nginx.conf"), conf).unwrap();
            let mut child = Command::new("/usr/sbin/nginx")
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("nginx (Debian nginx)");
            // Ready when it accepts connections (an event loop: a probe holds nothing);
            // gone when the port was taken meanwhile.
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx { base: format!("http://127.0.0.1:{port}"), dir, child };
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("nginx did not start: {}", std::fs::read_to_string(dir.join("error.log")).unwrap_or_default());
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
