;;; copilot-ls.el --- copilot-ls (local AI code completions) through eglot  -*- lexical-binding: t; -*-

;; Install:
;;   1. `pip install -e .` in the copilot-ls checkout, so that `copilot-ls` is on PATH
;;      (or set `copilot-ls-command' below to its full path).
;;   2. Emacs 29+ (eglot is built in).  Put this file in your `load-path' and add to init.el:
;;        (require 'copilot-ls)
;;        (add-hook 'python-base-mode-hook #'eglot-ensure)   ; start it automatically
;;      or just `(load "/path/to/editor-configs/emacs/copilot-ls.el")'.
;;   3. Open a file of one of `copilot-ls-modes' and run M-x eglot (if not started by a hook).
;;
;; Completions arrive through `completion-at-point' (C-M-i, or the popup of corfu/company):
;; one candidate, labelled with the first line of the suggestion; choosing it inserts the whole
;; (possibly multi-line) text.  eglot runs one server per buffer, so for these modes copilot-ls
;; replaces your usual language server (pylsp, pyright, ...).  Customize `copilot-ls-modes'.

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
  "Settings sent as `initializationOptions' (a plist; keys are the camelCase setting names).
`copilot-ls schema' prints them all."
  :type 'sexp)

(defcustom copilot-ls-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-ts-mode go-mode go-ts-mode
    rust-mode rust-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode java-mode java-ts-mode
    sh-mode bash-ts-mode ruby-mode ruby-ts-mode lua-mode)
  "Major modes in which eglot starts copilot-ls.
Takes effect when this file is loaded."
  :type '(repeat symbol))

(defun copilot-ls--contact (&optional _interactive)
  "The eglot contact for copilot-ls, read from the options at start time."
  `(,@copilot-ls-command :initializationOptions ,copilot-ls-initialization-options))

(add-to-list 'eglot-server-programs (cons copilot-ls-modes #'copilot-ls--contact))

(provide 'copilot-ls)
;;; copilot-ls.el ends here
