;;; emacs_driver.el --- drive the shipped copilot-ls.el in headless Emacs  -*- lexical-binding: t; -*-

;; Drives `emacs --batch' through a copilot-ls completion or chat, the way a user would, and
;; writes what happened to a JSON file.  Run by tests/editors/test_emacs.py as
;;   emacs --batch -l tests/editors/emacs_driver.el
;; (without -Q, so that Debian's site-start puts the ELPA eglot on the `load-path'), with these
;; environment variables:
;;   COPILOT_LS_CONFIG    editor-configs/emacs/copilot-ls.el (the shipped config)
;;   COPILOT_LS_CMD       JSON list: the server command, set as `copilot-ls-command'
;;   COPILOT_LS_INIT      JSON object: set as `copilot-ls-initialization-options'
;;   COPILOT_LS_FILE      the Python file to open
;;   COPILOT_LS_LINE      0-based line whose end is the cursor
;;   COPILOT_LS_OUT       JSON file to write
;;   COPILOT_LS_TIMEOUT   seconds before giving up (default 120)
;;   COPILOT_LS_TASK      "complete" or "chat"
;;   COPILOT_LS_QUESTION  the chat question (task "chat")
;;   COPILOT_LS_ACCEPT    "yes" to accept an edit the chat offers (task "chat")
;;
;; Steps: load the config, open the file, start eglot as M-x eglot does (the contact comes
;; from the config's `eglot-server-programs' entry), wait until the buffer is managed, put the
;; cursor at the end of the line, then either
;;   complete: M-x completion-at-point (the sole candidate is inserted, and eglot's exit
;;             function applies the item's textEdit), then `copilot-ls.lastCompletion';
;;   chat:     (copilot-ls-chat QUESTION), waiting until the answer is complete; the
;;             questions asked with `y-or-n-p' are recorded and answered "no", or "yes"
;;             when COPILOT_LS_ACCEPT is "yes" (applying an offered edit).
;; Waiting is done with `accept-process-output', so the JSON-RPC connection keeps being served.

;;; Code:

(require 'cl-lib)
(require 'json)
(require 'subr-x)
(require 'eglot) ; the test is skipped when it cannot be loaded

;; Defined by the shipped config, loaded at run time.
(defvar copilot-ls-command)
(defvar copilot-ls-initialization-options)
(defvar copilot-ls--chat-pending)
(declare-function copilot-ls-chat "copilot-ls" (question))
(declare-function copilot-ls--chat-buffer "copilot-ls" ())

(defvar copilot-ls-driver--result nil "What happened, an alist written as JSON.")
(defvar copilot-ls-driver--steps nil "The steps done so far, newest first.")
(defvar copilot-ls-driver--started (float-time) "When the driver started.")
(defvar copilot-ls-driver--completions nil "textDocument/completion responses, newest first.")

(defun copilot-ls-driver--env (name &optional default)
  "The environment variable NAME, or DEFAULT; an error when both are missing."
  (or (getenv name) default (error "%s is not set" name)))

(defconst copilot-ls-driver--timeout
  (string-to-number (copilot-ls-driver--env "COPILOT_LS_TIMEOUT" "120"))
  "Seconds before the driver gives up.")

(defun copilot-ls-driver--elapsed ()
  "Seconds since the driver started."
  (- (float-time) copilot-ls-driver--started))

(defun copilot-ls-driver--put (key value)
  "Record VALUE under KEY in the result."
  (setf (alist-get key copilot-ls-driver--result) value))

(defun copilot-ls-driver--step (name)
  "Record that the step NAME is done."
  (push `((name . ,name) (t . ,(copilot-ls-driver--elapsed))) copilot-ls-driver--steps))

(defun copilot-ls-driver--finish (error-text)
  "Write the result, with ERROR-TEXT (nil when all went well), and leave Emacs."
  (copilot-ls-driver--put 'error error-text)
  (copilot-ls-driver--put 'elapsed (copilot-ls-driver--elapsed))
  (copilot-ls-driver--put 'steps (vconcat (reverse copilot-ls-driver--steps)))
  (copilot-ls-driver--put 'messages
                          (with-current-buffer (messages-buffer)
                            (buffer-substring-no-properties (point-min) (point-max))))
  (let ((coding-system-for-write 'utf-8)
        (json-encoding-pretty-print nil))
    (write-region (json-encode copilot-ls-driver--result) nil
                  (copilot-ls-driver--env "COPILOT_LS_OUT")))
  (kill-emacs 0))

(defun copilot-ls-driver--wait (what predicate)
  "Serve the event loop until PREDICATE returns non-nil.
At the deadline, signal an error naming WHAT."
  (while (not (funcall predicate))
    (when (> (copilot-ls-driver--elapsed) copilot-ls-driver--timeout)
      (error "Timed out waiting for: %s" what))
    (accept-process-output nil 0.05))
  (copilot-ls-driver--step what))

(defun copilot-ls-driver--lines ()
  "The lines of the current buffer, as a vector."
  (vconcat (split-string (buffer-substring-no-properties (point-min) (point-max)) "\n")))

(defun copilot-ls-driver--record-completion (request connection method params &rest args)
  "Call REQUEST with CONNECTION, METHOD, PARAMS and ARGS.
Keep the responses to textDocument/completion."
  (let ((response (apply request connection method params args)))
    (when (eq method :textDocument/completion)
      (push response copilot-ls-driver--completions))
    response))

(defun copilot-ls-driver--setup ()
  "Load the shipped config with the test's server command and settings."
  (load (copilot-ls-driver--env "COPILOT_LS_CONFIG") nil t)
  (setq copilot-ls-command
        (append (json-parse-string (copilot-ls-driver--env "COPILOT_LS_CMD")) nil))
  (setq copilot-ls-initialization-options
        (json-parse-string (copilot-ls-driver--env "COPILOT_LS_INIT")
                           :object-type 'plist :false-object :json-false))
  ;; A model call can take tens of seconds on a busy CPU: wait for it, never time out first.
  (setq jsonrpc-default-request-timeout copilot-ls-driver--timeout
        eglot-connect-timeout copilot-ls-driver--timeout
        eglot-sync-connect nil)
  (copilot-ls-driver--step "setup"))

(defun copilot-ls-driver--connect ()
  "Open the file and start eglot for it as M-x eglot does.
Wait until eglot manages the buffer; return the server."
  (find-file (copilot-ls-driver--env "COPILOT_LS_FILE"))
  (copilot-ls-driver--put 'major_mode (symbol-name major-mode))
  (apply #'eglot (eglot--guess-contact))
  (copilot-ls-driver--wait "attach" (lambda () (and (eglot-current-server)
                                                     (bound-and-true-p eglot--managed-mode))))
  (let ((server (eglot-current-server)))
    (copilot-ls-driver--put 'attached t)
    (copilot-ls-driver--put 'command (vconcat (process-command (jsonrpc--process server))))
    (copilot-ls-driver--put 'root (expand-file-name (project-root (eglot--project server))))
    (copilot-ls-driver--put 'capf (and (memq #'eglot-completion-at-point
                                             completion-at-point-functions)
                                       t))
    server))

(defun copilot-ls-driver--go-to-line ()
  "Put the cursor at the end of line COPILOT_LS_LINE (0-based)."
  (goto-char (point-min))
  (forward-line (string-to-number (copilot-ls-driver--env "COPILOT_LS_LINE")))
  (end-of-line))

(defun copilot-ls-driver--complete (server)
  "Complete at the cursor with `completion-at-point' and ask SERVER what it did."
  (let ((line (string-to-number (copilot-ls-driver--env "COPILOT_LS_LINE"))))
    (copilot-ls-driver--put 'line_before (thing-at-point 'line t))
    (advice-add 'jsonrpc-request :around #'copilot-ls-driver--record-completion)
    (unwind-protect (call-interactively #'completion-at-point)
      (advice-remove 'jsonrpc-request #'copilot-ls-driver--record-completion))
    (copilot-ls-driver--step "completion-at-point")
    (copilot-ls-driver--put 'responses (vconcat (reverse copilot-ls-driver--completions)))
    (copilot-ls-driver--put 'buffer (copilot-ls-driver--lines))
    (copilot-ls-driver--put 'line_after (aref (copilot-ls-driver--lines) line))
    (copilot-ls-driver--put 'point_after (list (1- (line-number-at-pos)) (current-column)))
    (copilot-ls-driver--put
     'last_completion
     (jsonrpc-request server :workspace/executeCommand
                      '(:command "copilot-ls.lastCompletion")))))

(defun copilot-ls-driver--chat (server question)
  "Ask QUESTION with `copilot-ls-chat' and wait for the whole answer from SERVER."
  (let ((source (buffer-substring-no-properties (point-min) (point-max)))
        (chat (copilot-ls--chat-buffer))
        (updates 0)
        (offered nil))
    (with-current-buffer chat
      ;; Changes while the answer is pending are the streamed chunks.
      (add-hook 'after-change-functions
                (lambda (&rest _) (when copilot-ls--chat-pending (cl-incf updates)))
                nil t))
    (cl-letf (((symbol-function 'y-or-n-p)
               (lambda (prompt)
                 (push prompt offered)
                 (equal (getenv "COPILOT_LS_ACCEPT") "yes"))))
      (copilot-ls-chat question)
      (copilot-ls-driver--step "asked")
      (copilot-ls-driver--wait "answer" (lambda () (not copilot-ls--chat-pending))))
    (copilot-ls-driver--put 'chat_window (and (get-buffer-window chat t) t))
    (copilot-ls-driver--put 'chat (with-current-buffer chat
                                    (buffer-substring-no-properties (point-min) (point-max))))
    (copilot-ls-driver--put 'updates updates)
    (copilot-ls-driver--put 'offered (vconcat (reverse offered)))
    (copilot-ls-driver--put 'buffer (copilot-ls-driver--lines))
    (copilot-ls-driver--put 'last_chat (jsonrpc-request server :workspace/executeCommand
                                                        '(:command "copilot-ls.lastChat")))
    (copilot-ls-driver--put 'source_unchanged
                            (equal source (buffer-substring-no-properties
                                           (point-min) (point-max))))))

(defun copilot-ls-driver--main ()
  "Run the task of COPILOT_LS_TASK and write the result."
  (condition-case err
      (progn
        (copilot-ls-driver--setup)
        (let ((server (copilot-ls-driver--connect))
              (task (copilot-ls-driver--env "COPILOT_LS_TASK")))
          (copilot-ls-driver--go-to-line)
          (pcase task
            ("complete" (copilot-ls-driver--complete server))
            ("chat" (copilot-ls-driver--chat server (copilot-ls-driver--env "COPILOT_LS_QUESTION")))
            (_ (error "Unknown COPILOT_LS_TASK %S" task)))
          (ignore-errors (eglot-shutdown server nil 10))
          (copilot-ls-driver--finish nil)))
    (error (copilot-ls-driver--finish (error-message-string err)))))

(copilot-ls-driver--main)

;;; emacs_driver.el ends here
