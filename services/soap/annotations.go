package soap

import (
	"github.com/beevik/etree"

	"github.com/abch-im/abch/models"
)

// TooLong is the BadArgumentLength fault naming the argument that is over
// its limit (errorcode BadArgumentLength, clients/RESPONSES.md §2).
func TooLong(param string) error {
	return &models.Error{Code: models.CodeBadArgumentLength, Param: param, Message: "Argument Exceeded Allowed Length " + param + " exceeded length"}
}

// Annotations decodes the <Annotation><Name/><Value/></Annotation>
// children of e, the one shape AB contacts and groups, MessengerMemberInfo
// and Sharing members share, at most max of them. A nameless annotation is
// refused (pidgin crashes on nameless annotations it reads back,
// RESPONSES.md §3); one over models' annotation limits is
// BadArgumentLength naming AnnotationName or AnnotationValue.
func Annotations(e *etree.Element, max int) ([]models.Annotation, error) {
	kids := Children(e, "Annotation")
	if len(kids) > max {
		return nil, models.Errorf(models.CodeBadRequest, "more than %d annotations", max)
	}
	var out []models.Annotation
	for _, k := range kids {
		a := models.Annotation{Name: PathText(k, "Name"), Value: PathText(k, "Value")}
		part := models.AnnotationTooLong(a)
		if part == "AnnotationName" {
			return nil, TooLong(part)
		}
		if a.Name == "" {
			return nil, models.Errorf(models.CodeBadRequest, "Annotation without Name")
		}
		if part != "" {
			return nil, TooLong(part)
		}
		out = append(out, a)
	}
	return out, nil
}
