package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Languages the pages are written in, the first being the default when the
// browser asks for none of them (Kazakh, the state language).
var languages = []string{"kk", "ru", "en"}

// languageNames label the language switcher, each in its own language.
var languageNames = map[string]string{"kk": "Қазақша", "ru": "Русский", "en": "English"}

// pickLang chooses the page language: a supported ?lang= (or form field
// lang) wins, then the Accept-Language entry with the highest q, then def.
func pickLang(r *http.Request, def string) string {
	if l := r.URL.Query().Get("lang"); slices.Contains(languages, l) {
		return l
	}
	if r.Method == http.MethodPost {
		if l := r.PostFormValue("lang"); slices.Contains(languages, l) {
			return l
		}
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"), def)
}

// fromAcceptLanguage parses an Accept-Language header (RFC 9110 §12.5.4)
// leniently: "ru-RU,ru;q=0.9,en;q=0.8" → ru. Entries with equal q keep
// their order; q=0 means "not this one".
func fromAcceptLanguage(h, def string) string {
	best, bestQ := "", 0.0
	for i, part := range strings.Split(h, ",") {
		if i >= 32 {
			break // a header longer than that is not a real browser's
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if !slices.Contains(languages, primary) {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	if best == "" {
		return def
	}
	return best
}

// messages holds every applicant-facing string, by key then language.
// TestMessagesComplete checks each key has all three.
var messages = map[string]map[string]string{
	"title": {
		"kk": "Сертификат шығару",
		"ru": "Выпуск сертификата",
		"en": "Certificate enrolment",
	},
	"ca_name": {
		"kk": "vidid демо куәландырушы орталығы",
		"ru": "Демонстрационный удостоверяющий центр vidid",
		"en": "vidid demo certificate authority",
	},
	"index_text": {
		"kk": "Бұл орталық жеке басы vidid арқылы расталған өтініш берушілерге электрондық цифрлық қолтаңба сертификаттарын шығарады. Бұл бетке жеке басты тексеруден кейін автоматты түрде өтесіз.",
		"ru": "Этот центр выпускает сертификаты электронной цифровой подписи заявителям, личность которых подтверждена через vidid. Вы попадёте на эту страницу автоматически после проверки личности.",
		"en": "This authority issues digital signature certificates to applicants whose identity vidid has verified. You arrive here automatically after identity verification.",
	},
	"ca_certs": {
		"kk": "Куәландырушы орталықтың сертификаттары (PEM)",
		"ru": "Сертификаты удостоверяющего центра (PEM)",
		"en": "Certificate authority certificates (PEM)",
	},
	"enroll_heading": {
		"kk": "Кілттер қоймасына құпиясөз орнатыңыз",
		"ru": "Задайте пароль для хранилища ключей",
		"en": "Set a password for your key store",
	},
	"enroll_intro": {
		"kk": "Жеке басыңыз расталды. Куәландырушы орталық қол қою кілтіңізді жасап, мына адамға сертификат шығарады:",
		"ru": "Ваша личность подтверждена. Удостоверяющий центр создаст ваш ключ подписи и выпустит сертификат на имя:",
		"en": "Your identity has been verified. The certificate authority will generate your signing key and issue a certificate for:",
	},
	"name": {
		"kk": "Аты-жөні",
		"ru": "ФИО",
		"en": "Name",
	},
	"iin": {
		"kk": "ЖСН",
		"ru": "ИИН",
		"en": "IIN",
	},
	"password": {
		"kk": "Құпиясөз",
		"ru": "Пароль",
		"en": "Password",
	},
	"confirm": {
		"kk": "Құпиясөзді қайталаңыз",
		"ru": "Повторите пароль",
		"en": "Repeat the password",
	},
	"password_hint": {
		"kk": "Кемінде 8 таңба; бірнеше сөзден тұратын тіркес ең жақсысы. ЖСН-ді, бір таңбаның қайталануын немесе 12345678 сияқты тізбекті пайдаланбаңыз. Құпиясөз кілтіңізді қорғайды және оны қалпына келтіру мүмкін емес: ұмытып қалсаңыз, жаңа сертификат қажет болады.",
		"ru": "Не менее 8 символов; лучше всего фраза из нескольких слов. Не используйте ИИН, повтор одного символа или последовательности вроде 12345678. Пароль защищает ваш ключ и не может быть восстановлен: если вы его забудете, потребуется новый сертификат.",
		"en": "At least 8 characters; a phrase of several words is best. Do not use your IIN, one repeated character or a run like 12345678. The password protects your key and cannot be recovered: if you forget it, you will need a new certificate.",
	},
	"submit": {
		"kk": "Сертификат шығару",
		"ru": "Выпустить сертификат",
		"en": "Issue certificate",
	},
	"page_expires": {
		"kk": "Растау нәтижесі бірнеше минут қана жарамды.",
		"ru": "Результат проверки действителен лишь несколько минут.",
		"en": "The verification result is valid for a few minutes only.",
	},
	"success_heading": {
		"kk": "Сертификатыңыз дайын",
		"ru": "Ваш сертификат готов",
		"en": "Your certificate is ready",
	},
	"success_text": {
		"kk": "Кілттер қоймасын жүктеп алып, қауіпсіз жерде сақтаңыз. Онда сіз таңдаған құпиясөзбен қорғалған жабық кілтіңіз және сертификатыңыз бар.",
		"ru": "Скачайте хранилище ключей и храните его в надёжном месте. В нём ваш закрытый ключ, защищённый выбранным паролем, и сертификат.",
		"en": "Download your key store and keep it safe. It holds your private key, protected by the password you chose, and your certificate.",
	},
	"download": {
		"kk": "Кілттер қоймасын жүктеп алу",
		"ru": "Скачать хранилище ключей",
		"en": "Download the key store",
	},
	"download_once": {
		"kk": "Файл тек осы бетте беріледі және бізде сақталмайды: оны қазір жүктеп алыңыз.",
		"ru": "Файл выдаётся только на этой странице и у нас не хранится: скачайте его сейчас.",
		"en": "The file is only offered on this page and is not kept by us: download it now.",
	},
	"serial": {
		"kk": "Сериялық нөмір",
		"ru": "Серийный номер",
		"en": "Serial number",
	},
	"valid_until": {
		"kk": "Жарамдылық мерзімі",
		"ru": "Действителен до",
		"en": "Valid until",
	},
	"verify_again": {
		"kk": "Жеке басты қайта тексеру",
		"ru": "Пройти проверку заново",
		"en": "Verify again",
	},
	"error_heading": {
		"kk": "Сертификат шығару мүмкін болмады",
		"ru": "Не удалось выпустить сертификат",
		"en": "The certificate could not be issued",
	},

	// Error codes (see errors.go).
	"err_missing_assertion": {
		"kk": "Тексеру нәтижесі алынбады. Бұл бетті жеке басты тексеру қызметінен ашыңыз.",
		"ru": "Результат проверки не получен. Откройте эту страницу из сервиса проверки личности.",
		"en": "No verification result was received. Open this page from the identity verification service.",
	},
	"err_assertion_invalid": {
		"kk": "Жеке басты тексеру нәтижесін қабылдау мүмкін емес. Тексеруден қайта өтіңіз.",
		"ru": "Результат проверки личности не может быть принят. Пожалуйста, пройдите проверку ещё раз.",
		"en": "The identity verification result cannot be accepted. Please verify your identity again.",
	},
	"err_assertion_expired": {
		"kk": "Тексеру нәтижесінің мерзімі өтіп кетті (ол 5 минут жарамды). Тексеруден қайта өтіңіз.",
		"ru": "Срок действия результата проверки истёк (он действителен 5 минут). Пожалуйста, пройдите проверку ещё раз.",
		"en": "The verification result has expired (it is valid for 5 minutes). Please verify your identity again.",
	},
	"err_assertion_replayed": {
		"kk": "Бұл тексеру нәтижесі бойынша сертификат шығарылып қойған. Егер оны алмаған болсаңыз, жаңа өтінім беріңіз.",
		"ru": "По этому результату проверки сертификат уже выпущен. Если вы его не получили, подайте новую заявку.",
		"en": "A certificate has already been issued for this verification result. If you did not receive it, file a new application.",
	},
	"err_keys_unavailable": {
		"kk": "Куәландырушы орталық қазір тексеру нәтижесін тексере алмайды. Бірнеше минуттан кейін қайталап көріңіз.",
		"ru": "Удостоверяющий центр сейчас не может проверить результат проверки. Повторите попытку через несколько минут.",
		"en": "The certificate authority cannot check the verification result right now. Please try again in a few minutes.",
	},
	"err_password_mismatch": {
		"kk": "Құпиясөздер сәйкес келмейді.",
		"ru": "Пароли не совпадают.",
		"en": "The passwords do not match.",
	},
	"err_weak_password": {
		"kk": "Құпиясөз талаптарға сай келмейді.",
		"ru": "Пароль не соответствует требованиям.",
		"en": "The password does not meet the requirements.",
	},
	"err_too_short": {
		"kk": "Құпиясөз кемінде 8 таңбадан тұруы керек.",
		"ru": "Пароль должен содержать не менее 8 символов.",
		"en": "The password must have at least 8 characters.",
	},
	"err_too_long": {
		"kk": "Құпиясөз 128 байттан аспауы керек.",
		"ru": "Пароль не должен быть длиннее 128 байт.",
		"en": "The password must not be longer than 128 bytes.",
	},
	"err_invalid_chars": {
		"kk": "Құпиясөзде рұқсат етілмеген таңбалар бар.",
		"ru": "Пароль содержит недопустимые символы.",
		"en": "The password contains characters that are not allowed.",
	},
	"err_repetitive": {
		"kk": "Құпиясөз тым қарапайым: бір таңбаның қайталануы немесе тізбек.",
		"ru": "Пароль слишком простой: повтор одного символа или последовательность.",
		"en": "The password is too simple: one repeated character or a run.",
	},
	"err_contains_iin": {
		"kk": "Құпиясөзде ЖСН-іңіз болмауы керек.",
		"ru": "Пароль не должен содержать ваш ИИН.",
		"en": "The password must not contain your IIN.",
	},
	"err_bad_request": {
		"kk": "Сұрауды оқу мүмкін болмады. Бетті қайта жүктеп көріңіз.",
		"ru": "Не удалось прочитать запрос. Попробуйте обновить страницу.",
		"en": "The request could not be read. Try reloading the page.",
	},
	"err_internal": {
		"kk": "Біз тарапта қате орын алды. Сәлден кейін қайталап көріңіз.",
		"ru": "Произошла ошибка на нашей стороне. Повторите попытку чуть позже.",
		"en": "Something went wrong on our side. Please try again shortly.",
	},
}

// textsByLang holds messages by language then key, for templates ({{.T.title}}).
var textsByLang = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range languages {
		out[l] = make(map[string]string, len(messages))
		for k, v := range messages {
			out[l][k] = v[l]
		}
	}
	return out
}()
