;;; copilot-ls.el --- copilot-ls (local AI code completions) through eglot  -*- lexical-binding: t; -*-

;; Install:
;;   1. `pip install -e .` in the copilot-ls checkout, so that `copilot-ls` is on PATH
;;      (or set `copilot-ls-command' below to its full path).
;;   2. Emacs 29+ (eglot is built in), or Emacs 28 with eglot 1.9+ from ELPA (Debian:
;;      apt-get install elpa-eglot).  Put this file in your `load-path' and add to init.el:
;;        (require 'copilot-ls)
;;        (add-hook 'python-base-mode-hook #'eglot-ensure)   ; python-mode-hook on Emacs 28
;;      or just `(load "/path/to/editor-configs/emacs/copilot-ls.el")'.
;;   3. Open a file of one of `copilot-ls-modes' and run M-x eglot (if not started by a hook).
;;
;; Completions arrive through `completion-at-point' (C-M-i, or the popup of corfu/company):
;; one candidate, labelled with the first line of the suggestion; choosing it inserts the whole
;; (possibly multi-line) text.  eglot runs one server per buffer, so for these modes copilot-ls
;; replaces your usual language server (pylsp, pyright, ...).  Customize `copilot-ls-modes'.
;;
;; Chat: M-x copilot-ls-chat asks a question about the code at point (or in the region); the
;; answer streams into the *copilot-ls chat* buffer.  /explain, /fix [problem], /tests and /doc
;; run the code actions there, /clear forgets the conversation.  When the answer proposes an
;; edit, you are asked whether to apply it.

;;; Code:

(require 'eglot)

(defgroup copilot-ls nil
  "Local AI code completions from the copilot-ls language server."
  :group 'eglot)

(defcustom copilot-ls-command '("copilot-ls")
  "Command line that starts copilot-ls on stdio."
  :type '(repeat string))

(defcustom copilot-ls-initialization-options
  '(:completion (:maxTokens 64 :multiline "auto"))
  "Settings sent as `initializationOptions'.
A plist whose keys are the camelCase setting names, such as
  (:completion (:maxTokens 64) :chat (:maxTokens 256))
`copilot-ls schema' prints them all."
  :type 'sexp)

(defcustom copilot-ls-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-ts-mode go-mode go-ts-mode
    rust-mode rust-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode java-mode java-ts-mode
    sh-mode bash-ts-mode ruby-mode ruby-ts-mode lua-mode)
  "Major modes in which eglot starts copilot-ls.
Takes effect when this file is loaded."
  :type '(repeat symbol))

(defclass copilot-ls-server (eglot-lsp-server) ()
  :documentation "The copilot-ls language server, as eglot runs it.")

(defun copilot-ls--contact (&optional _interactive)
  "The eglot contact for copilot-ls, read from the options at start time."
  `(copilot-ls-server ,@copilot-ls-command
                      :initializationOptions ,copilot-ls-initialization-options))

(add-to-list 'eglot-server-programs (cons copilot-ls-modes #'copilot-ls--contact))

(defun copilot-ls--signal-configuration (signal server &rest args)
  "Call SIGNAL with SERVER and ARGS, but send copilot-ls its own settings.
eglot sends `workspace/didChangeConfiguration' right after connecting,
with `eglot-workspace-configuration' (usually empty) as the settings;
copilot-ls takes them as its whole settings tree, so an empty one would
reset `copilot-ls-initialization-options' to the defaults.  It gets the
current value of that option instead: after changing it, run
M-x eglot-signal-didChangeConfiguration to apply it without a restart."
  (if (cl-typep server 'copilot-ls-server)
      (jsonrpc-notify server :workspace/didChangeConfiguration
                      (list :settings (or copilot-ls-initialization-options
                                          (make-hash-table))))
    (apply signal server args)))

(advice-add 'eglot-signal-didChangeConfiguration
            :around #'copilot-ls--signal-configuration)

;;;; Chat

(defcustom copilot-ls-chat-buffer-name "*copilot-ls chat*"
  "Name of the buffer that shows the chat with copilot-ls."
  :type 'string)

(defvar copilot-ls--chat-pending nil
  "Non-nil while a question is being answered.")
(defvar copilot-ls--chat-id nil
  "Id of the answer being streamed (the first one seen while a question runs).")
(defvar copilot-ls--chat-streamed ""
  "The chunks of the current answer received so far.")
(defvar copilot-ls--chat-start nil
  "Marker in the chat buffer where the current answer starts.")

(defun copilot-ls--chat-buffer ()
  "The chat buffer, created when needed."
  (let ((buffer (get-buffer-create copilot-ls-chat-buffer-name)))
    (with-current-buffer buffer
      (unless (derived-mode-p 'special-mode)
        (special-mode)
        (visual-line-mode 1)))
    buffer))

(defun copilot-ls--chat-insert (text)
  "Insert TEXT at the end of the chat buffer and keep its windows at the end."
  (with-current-buffer (copilot-ls--chat-buffer)
    (let ((inhibit-read-only t))
      (goto-char (point-max))
      (insert text))
    (dolist (window (get-buffer-window-list (current-buffer) nil t))
      (set-window-point window (point-max)))))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql 'copilot-ls/chatChunk)) &key id chunk &allow-other-keys)
  "Show a streamed CHUNK of the answer with ID while a question runs."
  (when (and copilot-ls--chat-pending (stringp chunk))
    (unless copilot-ls--chat-id (setq copilot-ls--chat-id id))
    (when (and (equal id copilot-ls--chat-id) (> (length chunk) 0))
      (setq copilot-ls--chat-streamed (concat copilot-ls--chat-streamed chunk))
      (copilot-ls--chat-insert chunk))))

(defun copilot-ls--chat-range ()
  "The LSP range of the region, or of point."
  (if (use-region-p)
      (list :start (eglot--pos-to-lsp-position (region-beginning))
            :end (eglot--pos-to-lsp-position (region-end)))
    (let ((at (eglot--pos-to-lsp-position)))
      (list :start at :end at))))

(defun copilot-ls--apply-edit (edit)
  "Apply the WorkspaceEdit EDIT with eglot, once the user has agreed to it.
Before Emacs 30 the second argument of `eglot--apply-workspace-edit' is
CONFIRM (asking again); since then it is a required ORIGIN."
  (if (>= (car (func-arity #'eglot--apply-workspace-edit)) 2)
      (funcall #'eglot--apply-workspace-edit edit 'copilot-ls-chat)
    (funcall #'eglot--apply-workspace-edit edit)))

(defun copilot-ls--chat-done (result)
  "Show the whole answer of RESULT, and offer its edit."
  (setq copilot-ls--chat-pending nil)
  (let ((answer (or (plist-get result :answer) ""))
        (refused (plist-get result :refused))
        (edits (plist-get result :edits)))
    (unless (equal answer copilot-ls--chat-streamed) ; a chunk was missed: show it whole
      (with-current-buffer (copilot-ls--chat-buffer)
        (let ((inhibit-read-only t))
          (delete-region copilot-ls--chat-start (point-max))
          (goto-char (point-max))
          (insert answer))))
    (when (and (stringp refused) (> (length refused) 0))
      (copilot-ls--chat-insert (format "\n[no edit offered: %s]" refused)))
    (copilot-ls--chat-insert "\n\n")
    (when (and edits (y-or-n-p "copilot-ls: apply the proposed edit? "))
      (copilot-ls--apply-edit edits))))

(defun copilot-ls-chat (question)
  "Ask copilot-ls QUESTION about the code at point, or in the region.
The answer streams into `copilot-ls-chat-buffer-name'.  QUESTION may start with
/explain, /fix, /tests or /doc (the code actions) or be /clear."
  (interactive (list (read-string "copilot-ls chat: ")))
  (let ((server (eglot-current-server)))
    (unless server
      (user-error "copilot-ls is not running for this buffer: M-x eglot"))
    (let ((arguments (list :question question
                           :uri (plist-get (eglot--TextDocumentIdentifier) :uri)
                           :range (copilot-ls--chat-range))))
      (display-buffer (copilot-ls--chat-buffer) '(nil (inhibit-same-window . t)))
      (copilot-ls--chat-insert (format "> %s\n" question))
      (with-current-buffer (copilot-ls--chat-buffer)
        (setq copilot-ls--chat-start (copy-marker (point-max))))
      (setq copilot-ls--chat-pending t
            copilot-ls--chat-id nil
            copilot-ls--chat-streamed "")
      (jsonrpc-async-request
       server :workspace/executeCommand
       (list :command "copilot-ls.chat" :arguments (vector arguments))
       :success-fn #'copilot-ls--chat-done
       :error-fn (lambda (error)
                   (setq copilot-ls--chat-pending nil)
                   (copilot-ls--chat-insert
                    (format "\n[copilot-ls: %s]\n\n" (plist-get error :message))))
       :timeout 600))))

(provide 'copilot-ls)
;;; copilot-ls.el ends here
